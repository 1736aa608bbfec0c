"""UTC wall-clock time that never repeats within a process.

Messages are ordered by ``timeSent``; a strictly increasing microsecond clock keeps
same-millisecond messages in the order they were stored.
"""

from __future__ import annotations

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
