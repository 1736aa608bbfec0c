"""UTC wall-clock time that never repeats within a process, and monotonic seconds.

Messages are ordered by ``timeSent``; a strictly increasing microsecond clock keeps
same-millisecond messages in the order they were stored. Cached values expire by
:meth:`Clock.seconds`, which a wall-clock step (NTP, a VM resumed) does not move.
Waiting for a while (a push retry's backoff) goes through the clock too, so a test
can decide how time passes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

_TICK = timedelta(microseconds=1)


class Clock:
    def __init__(self) -> None:
        self._last = datetime.min

    def now(self) -> datetime:
        """Naive UTC ``datetime``, strictly later than the previous call's."""
        current = datetime.now(UTC).replace(tzinfo=None)
        if current <= self._last:
            current = self._last + _TICK
        self._last = current
        return current

    def seconds(self) -> float:
        """Monotonic seconds (an arbitrary origin), for expiring what a node caches."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        await asyncio.sleep(seconds)
