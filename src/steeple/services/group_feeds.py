"""The feed switches of a conversation's group, looked up for new posts and new rooms.

Posts to a group feed come in bursts, so each group's switches are cached for
``MEMBERSHIP_CACHE_SECONDS`` (a switch turned off in ChurchApps takes effect within
that time); the cache is bounded. Without ``MEMBERSHIP_DATABASE_URL`` both switches
are on and nothing is looked up. A membership database that cannot be reached is a
503 with ``Retry-After``, never a post let through or a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from steeple.cache import TtlCache
from steeple.clock import Clock
from steeple.errors import ServiceUnavailable
from steeple.feeds import ALL_ON, FeedSwitches
from steeple.protocol.content_types import GROUP_TYPES
from steeple.settings import Settings
from steeple.storage.membership import MembershipDatabase

log = logging.getLogger(__name__)

CACHED_GROUPS = 10_000
RETRY_AFTER = 5
"""Seconds a client is told to wait when the membership database is away."""


class GroupFeeds:
    def __init__(
        self, database: MembershipDatabase | None, cache_seconds: float, clock: Clock
    ) -> None:
        self._database = database
        self._cache: TtlCache[tuple[str, str], FeedSwitches] = TtlCache(
            cache_seconds, CACHED_GROUPS, clock.seconds
        )

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> GroupFeeds:
        url = settings.membership_database_url
        database = MembershipDatabase.open(url) if url else None
        return cls(database, settings.membership_cache_seconds, clock)

    async def switches(self, conversation: Mapping[str, Any]) -> FeedSwitches:
        """The switches that judge a new post to (or a new) ``conversation``: its group's
        for a group feed, all on for anything else."""
        if self._database is None or conversation.get("contentType") not in GROUP_TYPES:
            return ALL_ON
        key = (str(conversation.get("churchId") or ""), str(conversation.get("contentId") or ""))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        return self._cache.put(key, await self._look_up(*key))

    async def _look_up(self, church_id: str, group_id: str) -> FeedSwitches:
        assert self._database is not None
        try:
            return await self._database.switches(church_id, group_id)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("membership database unavailable: %s", exc)
            raise ServiceUnavailable(
                "the membership database is unreachable", retry_after=RETRY_AFTER
            ) from None

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
