"""Reconnect delays: capped exponential backoff with full jitter.

After a server restart every client notices the drop at the same instant. With plain
exponential backoff they would all come back at 1 s, 2 s, 4 s... in lock-step; with
full jitter each attempt waits a uniformly random time in ``[0, min(cap, base * 2**n)]``,
which spreads a thousand reconnects over the whole window.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``delay(attempt)`` for attempt 0, 1, 2, ...; ``rng`` is injectable for reproducibility."""

    base: float = 1.0
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the wait before reconnect attempt ``attempt``."""
        if attempt >= 64:  # far past any cap; also keeps 2**n within float range
            return self.cap
        return min(self.cap, self.base * float(2 ** max(attempt, 0)))

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, self.ceiling(attempt))
