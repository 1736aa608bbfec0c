"""A small time-limited cache for rows a node looks up on every join or post.

Entries expire after ``seconds`` (so a change made on another node is seen within
that time) and the whole cache is dropped past ``capacity`` entries (so memory stays
bounded; the next lookups simply read the database again). Time is ``timer``'s
monotonic seconds: a node passes its clock's, so a test can move it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, seconds: float, capacity: int = 10_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._timer = timer
        self._capacity = capacity
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._timer():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> V:
        if len(self._entries) >= self._capacity:
            self._entries.clear()
        self._entries[key] = (self._timer() + self._seconds, value)
        return value

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def discard_where(self, stale: Callable[[V], bool]) -> None:
        self._entries = {k: e for k, e in self._entries.items() if not stale(e[1])}
