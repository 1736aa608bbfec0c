"""A node clock that the test moves: time stands still until ``advance`` is called.

It keeps :class:`steeple.clock.Clock`'s promise (every reading is later than the one
before, by a microsecond when nothing else moved it), so stored messages stay in
order; only the passing of seconds is the test's to decide, for stored times and for
what the node caches (:meth:`~steeple.clock.Clock.seconds`) alike.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from steeple.clock import Clock

_TICK = timedelta(microseconds=1)


class DrivenClock(Clock):
    def __init__(self, start: datetime | None = None) -> None:
        super().__init__()
        self._now = start or datetime.now(UTC).replace(tzinfo=None)
        self._seconds = 0.0
        self.slept: list[float] = []
        """Every wait asked of the clock, in seconds, in order."""

    def now(self) -> datetime:
        self._now += _TICK
        return self._now

    def seconds(self) -> float:
        return self._seconds

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._seconds += seconds

    async def sleep(self, seconds: float) -> None:
        """A wait passes at once: the clock moves on by ``seconds`` and says it was asked."""
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
