"""The heartbeat, spread over its interval: every socket is pinged once per interval,
a slice of them at a time.

Pinging all sockets at once is a fan-out to every one of them, and their pongs then
arrive together: with thousands of sockets, a stall of tens of milliseconds once per
interval, and it lands on whichever chat message is in flight (``bench/fanout.py
--probe`` shows the burst; the Node baseline has no heartbeat at all). In slices, a tick
costs a slice's share of that. Sockets keep their place in the order (oldest first), so
each is pinged about one interval after its previous ping, as before; a socket that
opens during a round waits for the next one.
"""

from __future__ import annotations

import math
from collections import deque

from steeple.hub import Hub

MAX_SLICES = 30


def slices_for(interval: float) -> int:
    """Slices per interval: ticks about a second apart, at most :data:`MAX_SLICES`."""
    return max(1, min(MAX_SLICES, int(interval)))


class StaggeredHeartbeat:
    """Call :meth:`tick` every :attr:`period` seconds: each socket is pinged once per
    ``interval``."""

    def __init__(self, hub: Hub, interval: float, slices: int | None = None) -> None:
        self._hub = hub
        self._slices = max(1, slices or slices_for(interval))
        self.period = interval / self._slices
        self._round: deque[str] = deque()
        self._per_tick = 0

    def tick(self) -> int:
        """Ping the next slice of this round; returns how many sockets were terminated."""
        if not self._round:
            self._round = deque(self._hub.ids_in_order())
            self._per_tick = math.ceil(len(self._round) / self._slices)
        batch = [self._round.popleft() for _ in range(min(self._per_tick, len(self._round)))]
        return self._hub.heartbeat(batch)
