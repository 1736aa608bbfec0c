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

While the uplink is down the node keeps serving its own sockets: publishes are
dropped (and counted), commands fail fast with ``ConnectionError``.

Nothing on the hot paths waits for Redis. Publishes are queued, and one task sends
whatever queued meanwhile as one pipeline, in order. Subscription changes are queued
for one task that sends them on the PubSub connection, and one reader task takes every
pub/sub message off that connection (``get_message``) and hands it to ``on_message``
directly, without a task per message. :meth:`RedisUplink.settled` waits until Redis
has confirmed every change queued so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError

from steeple.errors import ConfigError

log = logging.getLogger(__name__)

OnMessage = Callable[[bytes, bytes], None]
OnUp = Callable[[], Awaitable[None]]

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
MAX_BACKLOG = 8 << 20
"""Bytes queued towards Redis beyond which publishes are dropped instead of buffered."""
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0
SUBSCRIBE_CHUNK = 1000
"""Most channels named in one SUBSCRIBE or UNSUBSCRIBE."""
REDIS_ERRORS = (RedisError, OSError, TimeoutError)
"""What a command may raise when Redis is away or refuses it (OSError covers the
built-in ConnectionError raised while the uplink is down)."""

PING = "ping"


class RedisUplink:
    def __init__(self, url: str, on_message: OnMessage, on_up: OnUp) -> None:
        self._url = url
        self._where = _where(url)
        self._on_message = on_message
        self._on_up = on_up
        self._backoff = ExponentialWithJitterBackoff(cap=MAX_BACKOFF, base=FIRST_BACKOFF)
        self._session: _Session | None = None
        self._task: asyncio.Task[None] | None = None
        self._became_up = asyncio.Event()
        self._is_up = asyncio.Event()
        self._stopping = False
        self._failures = 0
        self.up = False
        self.down_since: float | None = time.time()
        self.reconnects = 0
        self.dropped = 0

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
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_up(self) -> None:
        """Return once the uplink is up, with every subscription restored."""
        await self._is_up.wait()

    def reset(self) -> None:
        """Give up on the current session (Redis stopped answering); a new one follows."""
        if self._session is not None:
            self._session.lost.set()

    # --- supervision -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
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
        session = _Session(client, self._on_message)
        try:
            await session.open()
            self._session = session
            await self._on_up()
            if session.lost.is_set():
                raise session.failure or ConnectionError("redis link lost while restoring")
            self._mark_up()
            await session.lost.wait()
            if session.failure is not None:
                raise session.failure
        finally:
            self._mark_down()
            self._session = None
            self.dropped += await session.close()

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

    def publish(self, channel: bytes, message: bytes) -> bool:
        """Queue a PUBLISH without waiting; False (and counted) if it had to be dropped."""
        if self._session is None or not self._session.publish(channel, message):
            self.dropped += 1
            return False
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


class _Session:
    """One client and its PubSub connection, and the three tasks that use them."""

    def __init__(self, client: Redis, on_message: OnMessage) -> None:
        self.client = client
        self.pubsub: PubSub = client.pubsub()
        self._on_message = on_message
        self._outbox: list[tuple[bytes, bytes]] = []
        self._in_flight = 0
        self._backlog = 0
        self._send_wanted = asyncio.Event()
        self._changes: deque[tuple[str, list[bytes]]] = deque()
        self._change_wanted = asyncio.Event()
        self._requested = 0
        self._confirmed = 0
        self._confirm_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._tasks: list[asyncio.Task[None]] = []
        self.lost = asyncio.Event()
        self.failure: BaseException | None = None

    async def open(self) -> None:
        """Connect both (raise if Redis is away), then start the workers."""
        await self.client.ping()
        await self.pubsub.connect()  # type: ignore[no-untyped-call]  # unannotated upstream
        for work in (self._read(), self._send_publishes(), self._send_changes()):
            self._tasks.append(asyncio.create_task(self._until_failure(work)))

    async def close(self) -> int:
        """Stop the workers and drop both connections; return the publishes not sent."""
        self.lost.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while self._confirm_waiters:
            _resolve(self._confirm_waiters.popleft()[1])
        while self._pongs:
            pong = self._pongs.popleft()
            if not pong.done():
                pong.set_exception(ConnectionError("redis link lost"))
                pong.exception()  # retrieved here: check() may already have given up
        for closing in (self.pubsub.aclose, self.client.aclose):
            with contextlib.suppress(*REDIS_ERRORS):
                await closing()
        return len(self._outbox) + self._in_flight

    async def _until_failure(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except REDIS_ERRORS as exc:
            self.failure = exc
        except Exception as exc:
            log.exception("a redis worker failed")
            self.failure = exc
        finally:
            self.lost.set()

    # --- publishes -------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> bool:
        if self._backlog > MAX_BACKLOG:
            return False
        if not self._outbox:
            self._send_wanted.set()
        self._outbox.append((channel, message))
        self._backlog += len(channel) + len(message)
        return True

    async def _send_publishes(self) -> None:
        """Everything queued while the previous batch was on its way leaves as one batch."""
        while True:
            await self._send_wanted.wait()
            self._send_wanted.clear()
            batch, self._outbox = self._outbox, []
            self._in_flight = len(batch)
            if len(batch) == 1:
                await self.client.publish(*batch[0])
            else:
                pipe = self.client.pipeline(transaction=False)
                for channel, message in batch:
                    pipe.publish(channel, message)
                await pipe.execute()
            self._in_flight = 0
            self._backlog -= sum(len(channel) + len(message) for channel, message in batch)

    # --- subscriptions ---------------------------------------------------------------

    def change(self, verb: str, channels: list[bytes]) -> None:
        for start in range(0, len(channels), SUBSCRIBE_CHUNK):
            self._changes.append((verb, channels[start : start + SUBSCRIBE_CHUNK]))
        self._requested += len(channels)
        self._change_wanted.set()

    async def ping(self) -> None:
        """PING on the subscriber connection, in line with the subscription changes."""
        pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs.append(pong)
        self._changes.append((PING, []))
        self._change_wanted.set()
        await pong

    async def settled(self, timeout: float) -> None:
        target = self._requested
        if self._confirmed >= target or self.lost.is_set():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirm_waiters.append((target, waiter))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), timeout)

    async def _send_changes(self) -> None:
        pubsub = self.pubsub
        while True:
            await self._change_wanted.wait()
            self._change_wanted.clear()
            while self._changes:
                verb, channels = self._next_change()
                if verb == PING:
                    await pubsub.ping()
                elif verb == "subscribe":
                    await pubsub.subscribe(*channels)
                else:
                    await pubsub.unsubscribe(*channels)

    def _next_change(self) -> tuple[str, list[bytes]]:
        """The next queued change, merged with the ones after it that have the same verb
        (one command for a burst of joins); a channel named twice is confirmed once."""
        verb, channels = self._changes.popleft()
        named = len(channels)
        merged = dict.fromkeys(channels)
        while (
            self._changes
            and self._changes[0][0] == verb != PING
            and len(merged) + len(self._changes[0][1]) <= SUBSCRIBE_CHUNK
        ):
            more = self._changes.popleft()[1]
            named += len(more)
            merged.update(dict.fromkeys(more))
        self._confirm(named - len(merged))
        return verb, list(merged)

    def _confirm(self, count: int) -> None:
        self._confirmed += count
        while self._confirm_waiters and self._confirm_waiters[0][0] <= self._confirmed:
            _resolve(self._confirm_waiters.popleft()[1])

    # --- receiving -------------------------------------------------------------------

    async def _read(self) -> None:
        """Hand every pub/sub message to ``on_message``; count confirmations and pongs."""
        pubsub, on_message = self.pubsub, self._on_message
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                try:
                    on_message(message["channel"], message["data"])
                except Exception:
                    log.exception("a message from redis could not be handled")
            elif kind in ("subscribe", "unsubscribe"):
                self._confirm(1)
            elif kind == "pong":
                self._pong()

    def _pong(self) -> None:
        if self._pongs:
            _resolve(self._pongs.popleft())


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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
