"""Token buckets kept as GCRA: the memory behind rate limits.

Each bucket is one number, its *theoretical arrival time* (TAT, in the node clock's
milliseconds): the moment it would be full again. Taking ``cost`` tokens moves it
``cost * interval`` later; that is allowed while it stays within ``burst * interval``
of now. So a bucket costs one key however busy it is, and a key can be forgotten as
soon as its TAT has passed (a full bucket and no bucket are the same thing): memory
and Redis keys are bounded by the callers seen within one burst's refill time.

:meth:`Buckets.take` charges several buckets at once, all or nothing: a post that the
room refuses does not spend the caller's tokens, and two nodes racing on one bucket
cannot both take its last token (with Redis the whole check is one Lua script).

With ``DELIVERY_PROVIDER=redis`` (or ``LIMITS_BACKEND=redis``) the buckets live in
Redis under ``REDIS_PREFIX``, so three nodes do not triple an allowance. While Redis
is away a node falls back to its own memory (limits then hold per node) and tries
Redis again a little later, as slow mode does.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from steeple.settings import Settings

log = logging.getLogger(__name__)

LOCAL_CAPACITY = 200_000
"""Most buckets one node remembers; past it the least recently charged are forgotten
(which only ever refills them)."""
FORGET_BATCH = 64
REDIS_TIMEOUT = 1.0
REDIS_RETRY_SECONDS = 5.0
REDIS_ERRORS = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class Charge:
    """``cost`` tokens from the bucket ``key``, which holds ``burst`` and gains one
    every ``interval_ms``."""

    key: str
    cost: int
    interval_ms: float
    burst: int


@dataclass(frozen=True)
class Refusal:
    """The first charge that did not fit, and the milliseconds until it would."""

    index: int
    wait_ms: float


class Buckets(Protocol):
    async def take(self, charges: Sequence[Charge], now_ms: float) -> Refusal | None:
        """Take every charge, or none of them and say which one did not fit."""

    async def close(self) -> None: ...


def settle(tat: float | None, charge: Charge, now_ms: float) -> tuple[float, float]:
    """GCRA for one bucket: (its TAT after the charge, ms to wait; > 0 means refused)."""
    start = now_ms if tat is None or tat < now_ms else tat
    after = start + charge.cost * charge.interval_ms
    return after, after - now_ms - charge.burst * charge.interval_ms


class LocalBuckets:
    """This process's buckets, least recently charged first."""

    def __init__(self, capacity: int = LOCAL_CAPACITY) -> None:
        self._capacity = capacity
        self._tats: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._tats)

    async def take(self, charges: Sequence[Charge], now_ms: float) -> Refusal | None:
        return self.take_now(charges, now_ms)

    def take_now(self, charges: Sequence[Charge], now_ms: float) -> Refusal | None:
        """:meth:`take` for a caller that cannot wait (memory needs no I/O)."""
        settled = []
        for index, charge in enumerate(charges):
            after, wait = settle(self._tats.get(charge.key), charge, now_ms)
            if wait > 0:
                return Refusal(index, wait)
            settled.append((charge.key, after))
        for key, after in settled:
            self._tats.pop(key, None)  # re-insert at the end: order is last charged
            self._tats[key] = after
        self._forget(now_ms)
        return None

    def _forget(self, now_ms: float) -> None:
        """Drop full buckets from the oldest end (amortised O(1) per take), and the
        oldest ones outright past ``capacity``."""
        tats = self._tats
        for key, tat in list(islice(tats.items(), FORGET_BATCH)):
            if tat > now_ms and len(tats) <= self._capacity:
                break
            del tats[key]

    async def close(self) -> None:
        self._tats.clear()


# KEYS: the buckets. ARGV: now, then (cost, interval, burst) per key.
# Returns {0} when every charge was taken, else {index (1-based), ms to wait}.
TAKE = """
local now = tonumber(ARGV[1])
local after = {}
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[3 * i - 1])
  local interval = tonumber(ARGV[3 * i])
  local burst = tonumber(ARGV[3 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local due = tat + cost * interval
  local wait = due - now - burst * interval
  if wait > 0 then return {i, math.ceil(wait)} end
  after[i] = due
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, string.format('%.3f', after[i]), 'PX', math.ceil(after[i] - now))
end
return {0}
"""


class RedisBuckets:
    """Buckets shared by every node, with this node's memory as the fallback."""

    def __init__(self, url: str, prefix: str, fallback: LocalBuckets | None = None) -> None:
        self._redis = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        self._script = self._redis.register_script(TAKE)
        self._prefix = f"{prefix}:rate:"
        self._fallback = fallback or LocalBuckets()
        self._retry_at = 0.0

    async def take(self, charges: Sequence[Charge], now_ms: float) -> Refusal | None:
        if time.monotonic() >= self._retry_at:
            try:
                answer = await self._script(
                    keys=[self._prefix + c.key for c in charges], args=_arguments(charges, now_ms)
                )
            except REDIS_ERRORS as exc:
                if not self._retry_at:
                    log.warning("rate limits fall back to this node's memory: redis %s", exc)
                self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            else:
                if self._retry_at:
                    log.info("rate limits are shared through redis again")
                    self._retry_at = 0.0
                index = int(answer[0])
                return Refusal(index - 1, float(answer[1])) if index else None
        return await self._fallback.take(charges, now_ms)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()


def _arguments(charges: Sequence[Charge], now_ms: float) -> list[str]:
    args = [f"{now_ms:.3f}"]
    for charge in charges:
        args += [str(charge.cost), f"{charge.interval_ms:.6f}", str(charge.burst)]
    return args


def buckets_for(settings: Settings) -> Buckets:
    """Redis when the nodes share it, else this process (README "Rate limits")."""
    if settings.shared_limits:
        return RedisBuckets(settings.redis_url, settings.redis_prefix)
    return LocalBuckets()


def retry_seconds(wait_ms: float) -> int:
    """``Retry-After``: whole seconds, at least 1."""
    return max(1, math.ceil(wait_ms / 1000))
