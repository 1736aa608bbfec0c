"""When each viewer last posted in a slow-mode room: the memory behind slow mode.

:meth:`claim` is one atomic check-and-record, so two posts racing from one viewer
cannot both pass. Times are the node clock's milliseconds (tests drive the clock),
and every entry expires once its window is over, so memory stays bounded by the
viewers who posted within the last window.

With ``DELIVERY_PROVIDER=redis`` the ledger lives in Redis (one script per claim),
so a viewer cannot post once per node behind a load balancer. While Redis is away
the node falls back to its own memory (slow mode then holds per node) and tries
Redis again a little later. Elsewhere (one node; AWS Lambda instances) it is per
process.
"""

from __future__ import annotations

import logging
import time
from itertools import islice
from typing import Protocol

from redis.asyncio import Redis

from steeple.delivery.redis.session import REDIS_ERRORS
from steeple.settings import Settings

log = logging.getLogger(__name__)

LOCAL_CAPACITY = 100_000
"""Most viewers one node remembers; past it the oldest posts are forgotten first."""
FORGET_BATCH = 64
"""Most entries looked at per claim when forgetting old posts."""
REDIS_TIMEOUT = 1.0
REDIS_RETRY_SECONDS = 5.0
"""After a failed Redis call, how long the node uses its own memory before trying again."""

# KEYS: the viewer's key in the room. ARGV: now (ms), window (ms).
# Returns 0 after recording the post, else the milliseconds still to wait.
CLAIM = """
local last = redis.call('GET', KEYS[1])
if last then
  local wait = tonumber(last) + tonumber(ARGV[2]) - tonumber(ARGV[1])
  if wait > 0 then return wait end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
"""


class PostLedger(Protocol):
    async def claim(self, key: str, now_ms: int, window_ms: int) -> int:
        """Record a post at ``now_ms`` unless the last one is under ``window_ms`` old;
        return 0 if recorded, else the milliseconds left to wait."""

    async def close(self) -> None: ...


class LocalLedger:
    """This process's memory of the last posts, oldest first."""

    def __init__(self, capacity: int = LOCAL_CAPACITY) -> None:
        self._capacity = capacity
        self._posts: dict[str, tuple[int, int]] = {}
        """key -> (posted at, forgettable after), in order of posting."""

    def __len__(self) -> int:
        return len(self._posts)

    async def claim(self, key: str, now_ms: int, window_ms: int) -> int:
        known = self._posts.get(key)
        if known is not None and (wait := known[0] + window_ms - now_ms) > 0:
            return wait
        self._posts.pop(key, None)  # re-insert at the end: dict order is posting order
        self._posts[key] = (now_ms, now_ms + window_ms)
        self._forget(now_ms)
        return 0

    def _forget(self, now_ms: int) -> None:
        """Drop expired entries from the oldest end (amortised O(1) per claim), and the
        oldest ones outright past ``capacity``."""
        posts = self._posts
        for key, (_, until) in list(islice(posts.items(), FORGET_BATCH)):
            if until > now_ms and len(posts) <= self._capacity:
                break
            del posts[key]

    async def close(self) -> None:
        self._posts.clear()


class RedisLedger:
    """The ledger shared by every node, with this node's memory as the fallback."""

    def __init__(self, url: str, prefix: str, fallback: LocalLedger | None = None) -> None:
        self._redis = Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        self._script = self._redis.register_script(CLAIM)
        self._prefix = f"{prefix}:slow:"
        self._fallback = fallback or LocalLedger()
        self._retry_at = 0.0

    async def claim(self, key: str, now_ms: int, window_ms: int) -> int:
        if time.monotonic() >= self._retry_at:
            try:
                wait = await self._script(keys=[self._prefix + key], args=[now_ms, window_ms])
            except REDIS_ERRORS as exc:
                if not self._retry_at:
                    log.warning("slow mode falls back to this node's memory: redis %s", exc)
                self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            else:
                if self._retry_at:
                    log.info("slow mode is shared through redis again")
                    self._retry_at = 0.0
                return int(wait)
        return await self._fallback.claim(key, now_ms, window_ms)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()


def ledger_for(settings: Settings) -> PostLedger:
    """Redis when the nodes share it (``DELIVERY_PROVIDER=redis``), else this process."""
    if settings.delivery_provider == "redis":
        return RedisLedger(settings.redis_url, settings.redis_prefix)
    return LocalLedger()
