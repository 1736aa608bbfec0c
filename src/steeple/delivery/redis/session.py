"""One connection pair to Redis and the tasks that use it: a session of the uplink.

A session lives from a successful connection to the first failure of either of its
connections; :class:`~steeple.delivery.redis.uplink.RedisUplink` then closes it and
opens a fresh one. Publishes wait in the uplink's :class:`~.outbox.Outbox` and leave
once the node has restored its state in the new session; they and subscription
changes are sent by one task each, and one reader task hands every pub/sub message
to ``on_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from steeple.delivery.redis.outbox import Outbox
from steeple.stopping import cancel_and_wait

log = logging.getLogger(__name__)

OnMessage = Callable[[bytes, bytes], None]

SUBSCRIBE_CHUNK = 1000
"""Most channels named in one SUBSCRIBE or UNSUBSCRIBE."""
REDIS_ERRORS = (RedisError, OSError, TimeoutError)
"""What a command may raise when Redis is away or refuses it (OSError covers the
built-in ConnectionError raised while the uplink is down)."""

PING = "ping"


class Session:
    """One client and its PubSub connection, and the three tasks that use them."""

    def __init__(self, client: Redis, on_message: OnMessage, outbox: Outbox) -> None:
        self.client = client
        self.pubsub: PubSub = client.pubsub()
        self._on_message = on_message
        self._outbox = outbox
        self.flushing = asyncio.Event()
        """Set once the node has restored its state: only then do publishes leave."""
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

    async def close(self) -> None:
        """Stop the workers and drop both connections; a batch on its way is sent again
        by the next session."""
        self.lost.set()
        for task in self._tasks:
            await cancel_and_wait(task, "a redis worker")
        self._outbox.requeue()
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

    async def _send_publishes(self) -> None:
        """Everything queued while the previous batch was on its way leaves as one batch."""
        outbox = self._outbox
        await self.flushing.wait()
        while True:
            await outbox.wanted.wait()
            batch = outbox.take()
            if len(batch) == 1:
                await self.client.publish(*batch[0])
            elif batch:
                pipe = self.client.pipeline(transaction=False)
                for channel, message in batch:
                    pipe.publish(channel, message)
                await pipe.execute()
            outbox.sent()

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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
