"""Publishes on their way to Redis, kept across sessions so an outage loses none.

While the link is down (or a fresh session is still restoring the node's state),
publishes wait here in order; the next session sends them once the node is back. A
batch that was on its way when a session failed is put back at the front and sent
again: Redis may have passed some of it on already, so a receiver can see a frame
twice, and drops the second copy by its sequence number
(:mod:`~steeple.delivery.redis.ordering`).

The outbox is bounded by bytes and by count. Past either bound the *oldest* waiting
publish is dropped (and counted): the newest frames then still arrive, so receivers
notice the hole in the sequence and recover or close the sockets concerned, instead of
never learning that the last frames were lost.
"""

from __future__ import annotations

import asyncio
from collections import deque

Publish = tuple[bytes, bytes]
"""A channel and a message."""

BATCH = 1000
"""Most publishes sent as one pipeline."""


class Outbox:
    def __init__(self, max_bytes: int, max_frames: int) -> None:
        self._max_bytes = max_bytes
        self._max_frames = max_frames
        self._queue: deque[Publish] = deque()
        self._in_flight: list[Publish] = []
        self._bytes = 0
        self.wanted = asyncio.Event()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queue) + len(self._in_flight)

    @property
    def size(self) -> int:
        """Bytes waiting."""
        return self._bytes

    def put(self, channel: bytes, message: bytes) -> None:
        self._queue.append((channel, message))
        self._bytes += _size((channel, message))
        while self._queue and (self._bytes > self._max_bytes or len(self) > self._max_frames):
            self._bytes -= _size(self._queue.popleft())
            self.dropped += 1
        self.wanted.set()

    def take(self) -> list[Publish]:
        """The next batch to send; it stays counted until :meth:`sent` or :meth:`requeue`."""
        count = min(len(self._queue), BATCH)
        batch = [self._queue.popleft() for _ in range(count)]
        self._in_flight = batch
        if not self._queue:
            self.wanted.clear()
        return batch

    def sent(self) -> None:
        self._bytes -= sum(_size(publish) for publish in self._in_flight)
        self._in_flight = []

    def requeue(self) -> None:
        """The session failed with a batch on its way: send it again, first."""
        self._queue.extendleft(reversed(self._in_flight))
        self._in_flight = []
        if self._queue:
            self.wanted.set()


def _size(publish: Publish) -> int:
    return len(publish[0]) + len(publish[1])
