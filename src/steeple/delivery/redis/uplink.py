"""A node's uplink to Redis through redis-py, kept up with backoff.

One ``redis.asyncio.Redis`` client carries commands and publishes, one of its
``PubSub`` connections carries the subscriptions. Both belong to a *session*: when
either fails (Redis stopped, the network dropped, or Redis stopped answering and
:meth:`RedisUplink.reset` was called) the session is closed, the uplink reports
itself down, and a fresh session is tried after a capped, jittered backoff (redis-py's
``ExponentialWithJitterBackoff``). A fresh session rather than redis-py's silent
reconnection, so that the node knows it was cut off and restores what Redis does not
remember for it (``on_up``: every subscription, the liveness key) before it reports
itself up again.

While the uplink is down the node keeps serving its own sockets: room publishes wait
in a bounded :class:`~.outbox.Outbox` and leave, in order, once a new session has
restored the node's state; control messages are dropped (a question just goes
unanswered); commands fail fast with ``ConnectionError``.

Nothing on the hot paths waits for Redis. Publishes are queued, and one task sends
whatever queued meanwhile as one pipeline, in order. Subscription changes are queued
for one task that sends them on the PubSub connection, and one reader task takes every
pub/sub message off that connection (``get_message``) and hands it to ``on_message``
directly, without a task per message. :meth:`RedisUplink.settled` waits until Redis
has confirmed every change queued so far.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from steeple.delivery.redis.outbox import Outbox
from steeple.delivery.redis.session import REDIS_ERRORS, OnMessage, Session
from steeple.errors import ConfigError
from steeple.stopping import cancel_and_wait

log = logging.getLogger(__name__)

OnUp = Callable[[], Awaitable[None]]

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 1.0
"""A node is back at most about a second after Redis is: frames wait meanwhile, and an
attempt costs one TCP connect."""
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0


class RedisUplink:
    def __init__(self, url: str, on_message: OnMessage, on_up: OnUp, outbox: Outbox) -> None:
        self._url = url
        self.outbox = outbox
        self._where = _where(url)
        self._on_message = on_message
        self._on_up = on_up
        self._backoff = ExponentialWithJitterBackoff(cap=MAX_BACKOFF, base=FIRST_BACKOFF)
        self._session: Session | None = None
        self._task: asyncio.Task[None] | None = None
        self._became_up = asyncio.Event()
        self._is_up = asyncio.Event()
        self._stopping = False
        self._failures = 0
        self.up = False
        self.down_since: float | None = time.time()
        self.reconnects = 0
        self.unsent = 0
        """Control messages dropped because the link was down."""

    async def start(self, timeout: float) -> None:
        """Begin connecting; wait up to ``timeout`` for the first success, then go on."""
        self._task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self._became_up.wait(), timeout)
        except TimeoutError:
            log.error(
                "redis at %s is not reachable; serving local sockets only and retrying", self._where
            )

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task, "the redis uplink")

    async def wait_up(self) -> None:
        """Return once the uplink is up, with every subscription restored."""
        await self._is_up.wait()

    def reset(self) -> None:
        """Give up on the current session (Redis stopped answering); a new one follows."""
        if self._session is not None:
            self._session.lost.set()

    # --- supervision -------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:  # not only the cancel: redis-py may turn one into an error
            try:
                await self._serve_session()
            except REDIS_ERRORS as exc:
                if self._failures == 0:
                    log.warning(
                        "redis link failed (%s: %s); reconnecting with backoff",
                        type(exc).__name__,
                        exc,
                    )
            except Exception:
                log.exception("unexpected failure while (re)connecting to redis")
            self._failures += 1
            await asyncio.sleep(self._backoff.compute(self._failures))

    async def _serve_session(self) -> None:
        """Open a session, restore the node's state in Redis, serve until it fails."""
        client = Redis.from_url(
            self._url,
            protocol=2,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        session = Session(client, self._on_message, self.outbox)
        try:
            await session.open()
            self._session = session
            await self._on_up()
            if session.lost.is_set():
                raise session.failure or ConnectionError("redis link lost while restoring")
            self._mark_up()
            session.flushing.set()
            await session.lost.wait()
            if session.failure is not None:
                raise session.failure
        finally:
            self._mark_down()
            self._session = None
            await session.close()

    def _mark_up(self) -> None:
        if self._became_up.is_set():
            self.reconnects += 1
            log.warning("redis link restored after %.1f s", time.time() - (self.down_since or 0))
        self.up, self.down_since, self._failures = True, None, 0
        self._became_up.set()
        self._is_up.set()

    def _mark_down(self) -> None:
        if self.up and not self._stopping:
            log.warning("redis link lost; serving local sockets only until it is back")
        self.up = False
        self._is_up.clear()
        if self.down_since is None:
            self.down_since = time.time()

    # --- commands --------------------------------------------------------------------

    @property
    def client(self) -> Redis:
        """The client for commands; ConnectionError at once while the uplink is down."""
        if self._session is None:
            raise ConnectionError("redis link is down")
        return self._session.client

    @property
    def dropped(self) -> int:
        """Room publishes the outbox had to drop (it was full)."""
        return self.outbox.dropped

    def dropped_count(self) -> float:
        return self.outbox.dropped

    def publish(self, channel: bytes, message: bytes, *, while_down: bool = True) -> bool:
        """Queue a PUBLISH without waiting. ``while_down=False``: drop it (False) rather
        than keep it while no session is open."""
        if self._session is None and not while_down:
            self.unsent += 1
            return False
        self.outbox.put(channel, message)
        return True

    async def check(self, timeout: float) -> None:
        """Prove both connections answer within ``timeout``; otherwise raise."""
        session = self._session
        if session is None:
            raise ConnectionError("redis link is down")
        await asyncio.wait_for(asyncio.gather(session.client.ping(), session.ping()), timeout)

    # --- subscriptions -------------------------------------------------------------

    def subscribe(self, channels: list[bytes]) -> None:
        if self._session is not None:  # while down, on_up subscribes every room afresh
            self._session.change("subscribe", channels)

    def unsubscribe(self, channels: list[bytes]) -> None:
        if self._session is not None:
            self._session.change("unsubscribe", channels)

    async def settled(self, timeout: float) -> None:
        """Wait until Redis has applied every (un)subscription queued so far.

        Returns at once while the uplink is down, and gives up after ``timeout``.
        """
        if self._session is not None:
            await self._session.settled(timeout)


def _where(url: str) -> str:
    """Where ``url`` points, for log lines (never the password); ConfigError if unusable."""
    try:
        options = parse_url(url)
    except ValueError as exc:
        raise ConfigError(
            f"REDIS_URL must look like redis://host:6379/0, not {url!r} ({exc})"
        ) from None
    if "path" in options:
        return str(options["path"])
    if "host" not in options:
        raise ConfigError(f"REDIS_URL names no host: {url!r}")
    return f"{options['host']}:{options.get('port', 6379)}"
