"""Reconnect delays: capped exponential ceilings, full jitter below them."""

from __future__ import annotations

import random
import statistics

from steeple.client import Backoff


def test_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=30.0)
    assert [backoff.ceiling(n) for n in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff.ceiling(10_000) == 30


def test_every_delay_lies_between_zero_and_the_ceiling() -> None:
    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    for attempt in range(10):
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= backoff.ceiling(attempt) for d in delays)


def test_clients_dropped_together_do_not_come_back_in_lock_step() -> None:
    # A thousand clients on their fourth attempt: spread over the whole [0, 8] s window.
    delays = [Backoff(rng=random.Random(seed)).delay(3) for seed in range(1000)]
    assert min(delays) < 0.5 and max(delays) > 7.5
    assert 3.5 < statistics.mean(delays) < 4.5
    per_second = [sum(1 for d in delays if s <= d < s + 1) for s in range(8)]
    assert max(per_second) < 200  # no second gets more than ~1.6x its fair share
