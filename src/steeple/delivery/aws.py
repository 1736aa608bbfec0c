"""AWS delivery: API Gateway holds the sockets; frames leave through ``PostToConnection``.

There is no hub in this mode. A room's connection rows in SQL are its fan-out list,
read once when a frame is published (so a socket that joins afterwards does not get
it). Each connection has its own ordered backlog, drained by one task at a time, and
every post shares one bounded thread pool, because boto3 is synchronous. A post ends
in one of three ways:

* sent;
* 410 ``GoneException``: the socket is gone for good, so its rows are deleted and the
  attendance of its rooms corrected (through the ``socket_gone`` callback);
* any other error or a timeout: logged, and the rows are kept (the socket may well be
  alive; a client that missed a frame recovers by catch-up). There is no retry: a
  post that timed out may have been delivered, and a retry could deliver it twice.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from steeple.delivery.base import Delivery, FrameTooLarge
from steeple.protocol.outbound import Outbound
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.settings import Settings
from steeple.storage.connections import ConnectionRepository
from steeple.types import Room, alerts_person

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 128 * 1024
"""API Gateway refuses a WebSocket message (a ``PostToConnection`` body) over 128 KB."""
BACKLOG_LIMIT = 1024
"""Frames that may wait for one connection; more are dropped (the client catches up)."""

SocketGone = Callable[[str], Awaitable[None]]


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"


def management_endpoint(settings: Settings) -> str:
    """The Management API URL of the WebSocket API's stage, from settings only."""
    base = settings.aws_endpoint_url.rstrip("/")
    stage = settings.aws_stage.strip("/")
    return f"{base}/{stage}" if stage else base


class ManagementApi:
    """One WebSocket API stage's Management API, called from a bounded thread pool."""

    def __init__(self, settings: Settings) -> None:
        self.endpoint = management_endpoint(settings)
        config = Config(
            connect_timeout=settings.aws_timeout,
            read_timeout=settings.aws_timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=settings.aws_concurrency,
        )
        self._client: Any = boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=self.endpoint,
            region_name=settings.aws_region,
            config=config,
        )
        self._pool = ThreadPoolExecutor(
            settings.aws_concurrency, thread_name_prefix="steeple-apigateway"
        )

    async def post(self, connection_id: str, data: bytes) -> Outcome:
        call = partial(self._client.post_to_connection, ConnectionId=connection_id, Data=data)
        return await self._run("PostToConnection", connection_id, call)

    async def exists(self, connection_id: str) -> bool:
        """False only when API Gateway says the connection is gone; errors count as alive."""
        call = partial(self._client.get_connection, ConnectionId=connection_id)
        return await self._run("GetConnection", connection_id, call) is not Outcome.GONE

    async def _run(self, operation: str, connection_id: str, call: Callable[[], object]) -> Outcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _attempt, operation, connection_id, call)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


def _attempt(operation: str, connection_id: str, call: Callable[[], object]) -> Outcome:
    try:
        call()
    except ClientError as exc:
        if _is_gone(exc):
            return Outcome.GONE
        log.warning("%s to %s failed: %s", operation, connection_id, exc)
        return Outcome.FAILED
    except BotoCoreError as exc:  # timeouts, refused connections
        log.warning("%s to %s failed: %s", operation, connection_id, exc)
        return Outcome.FAILED
    return Outcome.SENT


def _is_gone(exc: ClientError) -> bool:
    response: dict[str, Any] = dict(exc.response)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code")
    return bool(status == 410 or code == "GoneException")


class AwsDelivery(Delivery):
    """Posts each frame to each connection of the room, in order per connection."""

    spans_nodes = True  # every Lambda container publishes to the same rooms
    max_frame_bytes = MAX_MESSAGE_BYTES
    limit_owner = "API Gateway's"

    def __init__(
        self,
        api: ManagementApi,
        connections: ConnectionRepository,
        socket_gone: SocketGone | None = None,
        backlog_limit: int = BACKLOG_LIMIT,
    ) -> None:
        self._api = api
        self._connections = connections
        self._socket_gone = socket_gone
        self._limit = backlog_limit
        self._backlogs: dict[str, deque[bytes]] = {}
        self._drainers: set[asyncio.Task[None]] = set()
        self.failed = 0
        self.dropped = 0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        connections: ConnectionRepository,
        socket_gone: SocketGone | None = None,
    ) -> AwsDelivery:
        return cls(ManagementApi(settings), connections, socket_gone)

    async def publish(self, room: Room, frame: Outbound) -> None:
        self._refuse_unchecked(frame, f"room {room[0]}/{room[1]}")
        person = alerts_person(room)
        rows_room = (room[0], ALERTS_ROOM) if person is not None else room
        for socket_id in await self._connections.socket_ids_in_room(rows_room, person):
            self._enqueue(socket_id, frame.payload)

    async def send(self, socket_id: str, frame: Outbound) -> None:
        """Queue a frame for one connection (the answer to its ``getId``, a joiner's own
        attendance)."""
        self._refuse_unchecked(frame, f"connection {socket_id}")
        self._enqueue(socket_id, frame.payload)

    async def join(self, room: Room, socket_id: str) -> bool:
        """The connection row is the membership; only say whether the connection is live."""
        return bool(await self._api.exists(socket_id))

    async def leave(self, room: Room, socket_id: str) -> None:
        """Nothing to do: the row was deleted before this call."""

    async def live_socket_ids(self, candidates: set[str]) -> set[str]:
        ids = list(candidates)
        alive = await asyncio.gather(*(self._api.exists(i) for i in ids))
        return {socket_id for socket_id, ok in zip(ids, alive, strict=True) if ok}

    async def flush(self) -> bool:
        """Wait until every queued frame is posted or given up; False if none was queued.

        A Lambda invocation calls this before it returns, because a frozen container
        would otherwise hold its frames until the next invocation.
        """
        busy = bool(self._drainers)
        while self._drainers:
            await asyncio.gather(*list(self._drainers), return_exceptions=True)
        return busy

    async def stop(self) -> None:
        await self.flush()
        self._api.close()

    def health(self) -> dict[str, Any]:
        return {
            "ok": True,
            "endpoint": self._api.endpoint,
            "backlogs": len(self._backlogs),
            "failed": self.failed,
            "dropped": self.dropped,
        }

    def _refuse_unchecked(self, frame: Outbound, target: str) -> None:
        """The last line: a frame nobody checked first is still never posted."""
        try:
            self.check_frame(frame)
        except FrameTooLarge as exc:
            log.error("frame for %s refused: %s", target, exc.problem)
            raise

    def _enqueue(self, socket_id: str, payload: bytes) -> None:
        backlog = self._backlogs.get(socket_id)
        if backlog is None:
            backlog = self._backlogs[socket_id] = deque()
            task = asyncio.create_task(self._drain(socket_id, backlog))
            self._drainers.add(task)
            task.add_done_callback(self._drainers.discard)
        elif len(backlog) >= self._limit:
            self.dropped += 1
            log.warning(
                "connection %s has %d frames waiting; dropping one", socket_id, len(backlog)
            )
            return
        backlog.append(payload)

    async def _drain(self, socket_id: str, backlog: deque[bytes]) -> None:
        gone = False
        try:
            while backlog and not gone:
                outcome = await self._api.post(socket_id, backlog.popleft())
                gone = outcome is Outcome.GONE
                if outcome is Outcome.FAILED:
                    self.failed += 1
        finally:
            del self._backlogs[socket_id]
        if gone:
            await self._forget(socket_id)

    async def _forget(self, socket_id: str) -> None:
        log.info("connection %s is gone; removing its rows", socket_id)
        if self._socket_gone is None:
            return
        try:
            await self._socket_gone(socket_id)
        except Exception:
            log.exception("removing the rows of gone connection %s failed", socket_id)
