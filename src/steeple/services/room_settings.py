"""Room settings a host sets, and slow mode's enforcement (PROTOCOL.md 5.6).

A host (``Chat__Host`` or ``Content__Edit`` of the conversation's church) sets a
room's slow mode: at most one post per N seconds per viewer, where a viewer is a
signed-in person or, anonymous, an address pseudonym (so viewers sharing one address
share one allowance). Hosts are exempt. The room hears of each change through a
``roomSettings`` frame, and the conversation JSON reports ``slowModeSeconds``.

Every post and every current-room lookup asks for the room's slow mode, so it is
cached briefly: a change made on this node applies at once, one made on another node
within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from steeple.auth.principal import CHAT_HOST, CONTENT_EDIT, Principal
from steeple.cache import TtlCache
from steeple.errors import BadRequest, TooManyRequests, Unauthorized
from steeple.protocol.frames import Action
from steeple.services.context import Context
from steeple.services.conversations import ConversationService
from steeple.services.post_ledger import PostLedger
from steeple.storage.rows import ConversationRow

MAX_SLOW_MODE = 3600
CACHE_SECONDS = 5.0
SLOW_MODE_LIMIT = "slowMode"
"""How a 429 body names this limit (``limit``)."""


class ReportedConversation(ConversationRow):
    """A conversation as the API shows it: with the room's slow mode."""

    slowModeSeconds: int


def may_host(principal: Principal, church_id: str) -> bool:
    """Hosts set room settings and are exempt from slow mode."""
    return principal.in_church(church_id) and (
        principal.can(CHAT_HOST) or principal.can(CONTENT_EDIT)
    )


def parse_slow_mode(body: Any) -> int:
    """``{slowModeSeconds: 0..3600}`` (0 = off) -> the seconds; BadRequest otherwise."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object with 'slowModeSeconds'")
    value = body.get("slowModeSeconds")
    if value is None:
        raise BadRequest("'slowModeSeconds' is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("'slowModeSeconds' must be a whole number of seconds")
    if not 0 <= value <= MAX_SLOW_MODE:
        raise BadRequest(f"'slowModeSeconds' must be between 0 (off) and {MAX_SLOW_MODE}")
    return value


class RoomSettingsService:
    def __init__(
        self, ctx: Context, conversations: ConversationService, ledger: PostLedger
    ) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._conversations = conversations
        self._ledger = ledger
        self._slow_mode: TtlCache[str, int] = TtlCache(CACHE_SECONDS)

    async def slow_mode(self, conversation_id: str) -> int:
        cached = self._slow_mode.get(conversation_id)
        if cached is not None:
            return cached
        seconds = await self._store.room_settings.slow_mode(conversation_id)
        return self._slow_mode.put(conversation_id, seconds)

    async def reported(self, conversation: ConversationRow) -> ReportedConversation:
        """The conversation JSON with its ``slowModeSeconds`` (a copy: rows may be cached)."""
        return {**conversation, "slowModeSeconds": await self.slow_mode(conversation["id"])}

    async def read(
        self, principal: Principal, church_id: str, conversation_id: str
    ) -> dict[str, Any]:
        """``GET .../settings``: anyone who may read the conversation."""
        await self._conversations.readable(principal, church_id, conversation_id)
        return _settings(conversation_id, await self.slow_mode(conversation_id))

    async def change(
        self, principal: Principal, church_id: str, conversation_id: str, body: Any
    ) -> dict[str, Any]:
        """``POST .../settings``: a host sets slow mode; a ``roomSettings`` frame follows."""
        if not may_host(principal, church_id):
            raise Unauthorized()
        seconds = parse_slow_mode(body)
        await self._conversations.readable(principal, church_id, conversation_id)
        await self._store.room_settings.put_slow_mode(
            church_id, conversation_id, seconds, self._ctx.clock.now()
        )
        self._slow_mode.put(conversation_id, seconds)
        await self._ctx.publish(
            (church_id, conversation_id), Action.ROOM_SETTINGS, {"slowModeSeconds": seconds}
        )
        return _settings(conversation_id, seconds)

    async def guard(
        self, principal: Principal, conversation: ConversationRow, address: str
    ) -> None:
        """A :data:`~steeple.services.messages.PostGuard`: 429 while the viewer must wait.

        The post is recorded here, before it is stored, so that two racing posts of one
        viewer cannot both pass; run it after the guards that may still refuse.
        """
        seconds = await self.slow_mode(conversation["id"])
        church_id = conversation["churchId"]
        if not seconds or may_host(principal, church_id):
            return
        key = f"{conversation['id']}|{self._viewer(principal, church_id, address)}"
        wait_ms = await self._ledger.claim(
            key, _milliseconds(self._ctx.clock.now()), seconds * 1000
        )
        if wait_ms > 0:
            wait = math.ceil(wait_ms / 1000)
            raise TooManyRequests(
                f"slow mode: one message every {seconds} s in this conversation; wait {wait} s",
                limit=SLOW_MODE_LIMIT,
                retry_after=wait,
            )

    def _viewer(self, principal: Principal, church_id: str, address: str) -> str:
        if principal.authenticated and principal.person_id:
            return f"person:{principal.person_id}"
        return f"address:{self._ctx.pseudonyms(church_id, address) or 'unknown'}"

    async def close(self) -> None:
        await self._ledger.close()


def _settings(conversation_id: str, seconds: int) -> dict[str, Any]:
    return {"conversationId": conversation_id, "slowModeSeconds": seconds}


def _milliseconds(now: datetime) -> int:
    """The clock's naive UTC time as milliseconds since the epoch."""
    return int(now.replace(tzinfo=UTC).timestamp() * 1000)
