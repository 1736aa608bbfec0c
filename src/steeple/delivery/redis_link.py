"""A node's link to Redis: a command connection and a subscriber, kept up with backoff.

While the link is down the node keeps serving its own sockets: publishes to Redis
are dropped (and counted), commands fail fast with ``ConnectionError``. After every
(re)connection the ``on_up`` callback restores what Redis does not remember for us
(subscriptions, the liveness key) before the link reports itself up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from steeple.delivery.redis_connection import RedisAddress, RedisConnection
from steeple.delivery.resp import Part, ReplyError, encode_command, encode_publish

log = logging.getLogger(__name__)

OnMessage = Callable[[bytes, bytes], None]
OnUp = Callable[[], Awaitable[None]]

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
MAX_BACKLOG = 8 << 20
"""Bytes queued towards Redis beyond which publishes are dropped instead of buffered."""
CONNECT_TIMEOUT = 5.0
REDIS_ERRORS = (OSError, ConnectionError, TimeoutError, ReplyError)


def backoff(failures: int) -> float:
    """Capped exponential backoff with full jitter: nodes do not return in lock-step."""
    return random.uniform(0, min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** failures))


class RedisLink:
    def __init__(self, address: RedisAddress, on_message: OnMessage, on_up: OnUp) -> None:
        self._address = address
        self._on_message = on_message
        self._on_up = on_up
        self._commands: RedisConnection | None = None
        self._subscriber: RedisConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._became_up = asyncio.Event()
        self._is_up = asyncio.Event()
        self._sent_acks = 0
        self._acks = 0
        self._ack_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._pongs: deque[asyncio.Future[None]] = deque()
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
            log.error("redis at %s:%d is not reachable; serving local sockets only and "
                      "retrying", self._address.host, self._address.port)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._drop_connections()

    # --- supervision -------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                commands, subscriber = await self._connect()
                await self._on_up()
                self._mark_up()
                failures = 0
                await asyncio.wait([commands.closed, subscriber.closed],
                                   return_when=asyncio.FIRST_COMPLETED)
            except REDIS_ERRORS as exc:
                if failures == 0:
                    log.warning("redis link failed: %r; reconnecting with backoff", exc)
            except Exception:
                log.exception("unexpected failure while (re)connecting to redis")
            self._mark_down()
            failures += 1
            await asyncio.sleep(backoff(failures))

    async def _connect(self) -> tuple[RedisConnection, RedisConnection]:
        self._drop_connections()
        self._sent_acks = self._acks = 0
        self._commands = await RedisConnection.open(self._address, None, CONNECT_TIMEOUT)
        self._subscriber = await RedisConnection.open(self._address, self._push,
                                                      CONNECT_TIMEOUT)
        return self._commands, self._subscriber

    def _mark_up(self) -> None:
        if self._became_up.is_set():
            self.reconnects += 1
            log.warning("redis link restored after %.1f s", time.time() - (self.down_since or 0))
        self.up, self.down_since = True, None
        self._became_up.set()
        self._is_up.set()

    def _mark_down(self) -> None:
        if self.up:
            log.warning("redis link lost; serving local sockets only until it is back")
        self.up = False
        self._is_up.clear()
        if self.down_since is None:
            self.down_since = time.time()
        self._drop_connections()

    def _drop_connections(self) -> None:
        for connection in (self._commands, self._subscriber):
            if connection is not None:
                connection.close()
        self._commands = self._subscriber = None
        self._release_waiters()

    async def wait_up(self) -> None:
        """Return once the link is up, with every subscription restored."""
        await self._is_up.wait()

    def reset(self) -> None:
        """Drop both connections (e.g. Redis stopped answering); the supervisor reconnects."""
        self._drop_connections()

    # --- commands --------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> bool:
        """Queue a PUBLISH without waiting; False (and counted) if it had to be dropped."""
        commands = self._commands
        if commands is None or commands.backlog > MAX_BACKLOG:
            self.dropped += 1
            return False
        return commands.send(encode_publish(channel, message))

    async def command(self, *parts: Part, timeout: float = CONNECT_TIMEOUT) -> Any:
        """Run one command; ConnectionError when the link is down, TimeoutError if slow."""
        if self._commands is None:
            raise ConnectionError("redis link is down")
        return await asyncio.wait_for(self._commands.command(*parts), timeout)

    async def check(self, timeout: float) -> None:
        """Prove both connections answer within ``timeout``; otherwise raise."""
        if self._subscriber is None or self._commands is None:
            raise ConnectionError("redis link is down")
        pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs.append(pong)
        self._subscriber.send_subscription(encode_command("PING"))
        await asyncio.wait_for(asyncio.gather(pong, self._commands.command("PING")), timeout)

    # --- subscriptions -------------------------------------------------------------

    def subscribe(self, channels: list[bytes]) -> None:
        self._subscription("SUBSCRIBE", channels)

    def unsubscribe(self, channels: list[bytes]) -> None:
        self._subscription("UNSUBSCRIBE", channels)

    def _subscription(self, verb: str, channels: list[bytes]) -> None:
        if not channels or self._subscriber is None:
            return  # while down, on_up subscribes every room afresh
        if self._subscriber.send_subscription(encode_command(verb, *channels)):
            self._sent_acks += len(channels)

    async def settled(self, timeout: float) -> None:
        """Wait until Redis has applied every (un)subscription sent so far.

        Returns at once while the link is down, and gives up after ``timeout``.
        """
        target = self._sent_acks
        if self._subscriber is None or self._acks >= target:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ack_waiters.append((target, waiter))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), timeout)

    def _push(self, reply: Any) -> None:
        if not isinstance(reply, list) or not reply:
            if reply == b"PONG":
                self._pong()
            return
        kind = reply[0]
        if kind == b"message":
            self._on_message(reply[1], reply[2])
        elif kind in (b"subscribe", b"unsubscribe"):
            self._acks += 1
            while self._ack_waiters and self._ack_waiters[0][0] <= self._acks:
                _resolve(self._ack_waiters.popleft()[1])
        elif kind == b"pong":
            self._pong()

    def _pong(self) -> None:
        if self._pongs:
            _resolve(self._pongs.popleft())

    def _release_waiters(self) -> None:
        while self._ack_waiters:
            _resolve(self._ack_waiters.popleft()[1])
        while self._pongs:
            pong = self._pongs.popleft()
            if not pong.done():
                pong.set_exception(ConnectionError("redis link lost"))
                pong.exception()  # retrieved here: check() may already have given up


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
