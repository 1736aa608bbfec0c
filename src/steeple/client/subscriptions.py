"""Reference-counted room membership over one socket (ChurchApps' ``SubscriptionManager``).

Several components may want the same room (a chat panel and a viewer list, say).
Each :meth:`Subscriptions.join` takes a reference; only the first one posts a
connection row, and only dropping the last one removes it, ``leave_delay`` later,
so a component that re-renders (leave, join) costs no traffic at all. Joins made
before the socket has an id are posted when it arrives, and every active room is
posted again for each new socketId after a reconnect.

A join that fails for a reason that passes (a 5xx, a 429, a refused or broken
connection) is retried with capped, full-jitter backoff until it succeeds, the room
is left, or a new socketId supersedes it: one failed re-join must not leave a client
deaf. A refusal that retrying cannot fix (a 400, a 401) is not retried; for "not an
open socket" the socket is gone and its successor's socketId posts the room again.

The server's row for a room is per socketId, so each room remembers which socketId
it was posted for; a row for a dead socket needs no DELETE (the server dropped it
when the socket closed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from steeple.client.backoff import Backoff
from steeple.client.errors import ApiError, ClientError, TooManyRequestsError
from steeple.client.models import Frame
from steeple.client.rest import RestClient
from steeple.client.socket import DISCONNECT, Socket
from steeple.client.tasks import TaskSet
from steeple.types import Room

log = logging.getLogger(__name__)

RoomListener = Callable[[Room, str], None]
"""Called with (room, socketId)."""


@dataclass
class _Membership:
    refs: int = 0
    posted: str | None = None
    """The socketId the server holds a connection row for, if any."""
    leave_timer: asyncio.TimerHandle | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    retry: asyncio.Task[None] | None = None
    """The loop re-posting a failed join, if one is running."""

    def cancel_leave(self) -> None:
        if self.leave_timer is not None:
            self.leave_timer.cancel()
            self.leave_timer = None

    def cancel_retry(self) -> None:
        if self.retry is not None and self.retry is not asyncio.current_task():
            self.retry.cancel()
        self.retry = None


def _worth_retrying(exc: ClientError) -> bool:
    """Failures that pass by themselves: the server was unreachable, busy or over a limit."""
    if not isinstance(exc, ApiError):
        return True
    return exc.status == 429 or exc.status >= 500


def _server_hint(exc: ClientError) -> float:
    """The wait a 429 asks for (``Retry-After``), else nothing."""
    if isinstance(exc, TooManyRequestsError) and exc.retry_after:
        return float(exc.retry_after)
    return 0.0


class Subscriptions:
    """Rooms keyed ``(churchId, conversationId)``, each with a reference count."""

    def __init__(
        self,
        socket: Socket,
        rest: RestClient,
        *,
        display_name: str = "",
        leave_delay: float = 0.3,
        retry: Backoff | None = None,
    ) -> None:
        self.display_name = display_name
        self._socket = socket
        self._rest = rest
        self._leave_delay = leave_delay
        self._retry = retry or Backoff(base=0.5, cap=15.0)
        self._rooms: dict[Room, _Membership] = {}
        self._posting: list[RoomListener] = []
        self._joined: list[RoomListener] = []
        self._tasks = TaskSet("subscriptions")
        self._unsubscribe = socket.on_socket_id(self._socket_id_changed)
        self._handler_id = f"subscriptions-{id(self)}"
        socket.add_handler(DISCONNECT, self._handler_id, self._socket_dropped)

    # --- public API -----------------------------------------------------------------------

    async def join(self, church_id: str, conversation_id: str) -> None:
        """Take a reference to the room; the first one posts the connection.

        Returns once the row is posted, or at once if the socket has no id yet (it
        is posted when the id arrives). A refusal that retrying cannot fix (a 4xx
        other than 429) drops the reference and is raised; a failure that passes
        keeps it and is retried in the background (:meth:`joined` waits for it).
        """
        room = (church_id, conversation_id)
        membership = self._rooms.setdefault(room, _Membership())
        membership.refs += 1
        membership.cancel_leave()
        if membership.refs > 1:
            return
        try:
            await self._post(room, membership)
        except BaseException:
            membership.refs -= 1
            self._forget_if_idle(room, membership)
            raise

    def leave(self, church_id: str, conversation_id: str) -> None:
        """Drop a reference; the last one removes the connection after ``leave_delay``."""
        room = (church_id, conversation_id)
        membership = self._rooms.get(room)
        if membership is None or membership.refs == 0:
            log.debug("leave of %s without a join ignored", room)
            return
        membership.refs -= 1
        if membership.refs == 0:
            membership.ready.clear()
            membership.cancel_retry()
            membership.leave_timer = asyncio.get_running_loop().call_later(
                self._leave_delay, lambda: self._tasks.spawn(self._leave_now(room, membership))
            )

    def references(self, church_id: str, conversation_id: str) -> int:
        membership = self._rooms.get((church_id, conversation_id))
        return membership.refs if membership else 0

    @property
    def rooms(self) -> list[Room]:
        """The rooms with at least one reference."""
        return [room for room, m in self._rooms.items() if m.refs > 0]

    async def joined(self, church_id: str, conversation_id: str, timeout: float = 5.0) -> str:
        """Wait until the room is posted for the current socket; return that socketId."""
        membership = self._rooms.get((church_id, conversation_id))
        if membership is None or membership.refs == 0:
            raise ClientError(f"room {church_id}/{conversation_id} is not joined")
        await asyncio.wait_for(membership.ready.wait(), timeout)
        assert membership.posted is not None
        return membership.posted

    def on_posting(self, listener: RoomListener) -> Callable[[], None]:
        """Called just before a room's connection is posted (the socket has no row yet)."""
        self._posting.append(listener)
        return lambda: self._posting.remove(listener)

    def on_joined(self, listener: RoomListener) -> Callable[[], None]:
        """Called after a room's connection was posted; frames for it flow from now on."""
        self._joined.append(listener)
        return lambda: self._joined.remove(listener)

    async def close(self) -> None:
        """Stop all work. Rows are not deleted here: closing the socket removes them."""
        self._unsubscribe()
        self._socket.remove_handler(DISCONNECT, self._handler_id)
        for membership in self._rooms.values():
            membership.cancel_leave()
            membership.cancel_retry()
        await self._tasks.cancel_all()

    # --- posting and leaving --------------------------------------------------------------

    async def _post(self, room: Room, membership: _Membership) -> None:
        """Post the room for the current socket; a passing failure starts the retry loop."""
        socket_id = self._socket.socket_id
        try:
            await self._post_once(room, membership)
        except ClientError as exc:
            if not _worth_retrying(exc):
                raise
            log.warning("joining %s failed (%s); retrying", room, exc)
            if socket_id is not None and membership.retry is None:
                membership.retry = self._tasks.spawn(
                    self._keep_posting(room, membership, socket_id, _server_hint(exc))
                )

    async def _post_once(self, room: Room, membership: _Membership) -> None:
        async with membership.lock:
            socket_id = self._socket.socket_id
            if socket_id is None or membership.refs == 0:
                return
            if membership.posted == socket_id:  # re-joined before the delayed leave
                membership.ready.set()
                return
            self._tell(self._posting, room, socket_id)
            entry = {
                "churchId": room[0],
                "conversationId": room[1],
                "socketId": socket_id,
                "displayName": self.display_name,
            }
            await self._rest.join([entry])
            membership.posted = socket_id
            if self._socket.socket_id == socket_id:
                membership.ready.set()
        self._tell(self._joined, room, socket_id)

    async def _keep_posting(
        self, room: Room, membership: _Membership, socket_id: str, hint: float
    ) -> None:
        """Re-post ``room`` for ``socket_id`` until it is posted, left, or the socket replaced."""
        attempt = 0
        try:
            while membership.refs > 0 and self._socket.socket_id == socket_id:
                await asyncio.sleep(max(min(hint, self._retry.cap), self._retry.delay(attempt)))
                attempt += 1
                if membership.refs == 0 or self._socket.socket_id != socket_id:
                    return
                try:
                    await self._post_once(room, membership)
                    return
                except ClientError as exc:
                    if not _worth_retrying(exc):
                        log.warning("re-joining %s was refused: %s", room, exc)
                        return
                    hint = _server_hint(exc)
                    log.info("re-joining %s failed again (%s); attempt %d", room, exc, attempt)
        finally:
            if membership.retry is asyncio.current_task():
                membership.retry = None

    async def _leave_now(self, room: Room, membership: _Membership) -> None:
        async with membership.lock:
            membership.leave_timer = None
            if membership.refs > 0:
                return
            socket_id, membership.posted = membership.posted, None
            if socket_id is not None and socket_id == self._socket.socket_id:
                try:
                    await self._rest.leave(room[0], room[1], socket_id)
                except ClientError as exc:
                    log.warning("leaving %s failed: %s", room, exc)
            self._forget_if_idle(room, membership)

    def _forget_if_idle(self, room: Room, membership: _Membership) -> None:
        if (
            membership.refs == 0
            and membership.leave_timer is None
            and self._rooms.get(room) is membership
        ):
            del self._rooms[room]

    def _socket_id_changed(self, socket_id: str) -> None:
        for room, membership in list(self._rooms.items()):
            membership.ready.clear()
            membership.cancel_retry()  # a retry for the old socket is moot now
            if membership.refs > 0:
                self._tasks.spawn(self._repost(room, membership))
            elif membership.leave_timer is not None and not membership.lock.locked():
                membership.cancel_leave()  # its row died with the old socket
                membership.posted = None
                self._forget_if_idle(room, membership)

    def _socket_dropped(self, frame: Frame) -> None:
        for membership in self._rooms.values():
            membership.ready.clear()

    async def _repost(self, room: Room, membership: _Membership) -> None:
        try:
            await self._post(room, membership)
        except ApiError as exc:
            log.warning("re-joining %s was refused: %s", room, exc)

    @staticmethod
    def _tell(listeners: list[RoomListener], room: Room, socket_id: str) -> None:
        for listener in list(listeners):
            try:
                listener(room, socket_id)
            except Exception:
                log.exception("room listener failed")
