"""Read-only views over conversations: content pages, timelines, group posts."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from steeple import access, validation
from steeple.auth.principal import Principal
from steeple.errors import Unauthorized
from steeple.services.context import Context
from steeple.services.conversations import ConversationService, ConversationView
from steeple.storage.reactions import ReactionCount
from steeple.storage.rows import ConversationRow, MessageRow

POSTS_WINDOW = timedelta(days=365)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 100_000
TIMELINE_LIMIT = 200
"""Conversations one timeline request looks at; ids past it are checked, then ignored."""


class MessageWithReactions(MessageRow):
    reactions: list[ReactionCount]


class ConversationPage(ConversationRow):
    """A conversation with one page of its messages."""

    messages: list[MessageWithReactions]


class TimelineEntry(TypedDict):
    id: str
    postCount: int
    messages: list[MessageRow]


def page_limit(raw: str | None) -> int:
    """``limit`` clamped to 1..100; anything that is not a number means the default
    (PROTOCOL.md 4): ChurchApps clients send what they have and expect a page back."""
    try:
        wanted = int(raw or "")
    except ValueError:
        return DEFAULT_LIMIT
    return max(1, min(wanted, MAX_LIMIT))


def timeline_ids(raw: str | None) -> list[str]:
    """The comma-separated ``ids`` of a timeline request, each checked, at most 200."""
    ids = [i for i in (raw or "").split(",") if i]
    for value in ids:
        validation.path_id(value, "ids")
    return ids[:TIMELINE_LIMIT]


class ConversationViews:
    def __init__(self, ctx: Context, conversations: ConversationService) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._conversations = conversations

    async def pages(
        self,
        principal: Principal,
        content_type: str,
        content_id: str,
        page_query: str | None,
        limit_query: str | None,
    ) -> list[ConversationPage]:
        """The caller church's conversations of this content, each with one page of messages."""
        page = validation.positive_int(page_query, "page", 1, MAX_PAGE)
        limit = page_limit(limit_query)
        if not principal.authenticated:
            raise Unauthorized()
        found = await self._conversations.for_content(
            principal, principal.church_id, content_type, content_id
        )
        result: list[ConversationPage] = []
        for conversation in found:
            messages = await self._store.messages.page(conversation["id"], page, limit)
            if not messages:
                continue
            reactions = await self._store.reactions.summary(
                [m["id"] for m in messages], principal.person_id or None
            )
            paged: list[MessageWithReactions] = [
                {**m, "reactions": reactions.get(m["id"], [])} for m in messages
            ]
            result.append({**conversation, "messages": paged})
        return result

    async def timeline(self, principal: Principal, ids_query: str | None) -> list[TimelineEntry]:
        ids = timeline_ids(ids_query)
        if not principal.authenticated:
            raise Unauthorized()
        rows = await self._store.conversations.many(principal.church_id, ids)
        result: list[TimelineEntry] = []
        for row in rows:
            if not access.can_read(principal, row, await self._conversations.thread(row)):
                continue
            edged = await self._conversations.with_edges(row)
            result.append(
                {"id": row["id"], "postCount": row["postCount"] or 0, "messages": edged["messages"]}
            )
        return result

    async def posts(
        self, principal: Principal, group_id: str | None = None
    ) -> list[ConversationView]:
        if not principal.authenticated:
            raise Unauthorized()
        if group_id is None:
            groups = principal.group_ids | principal.leader_group_ids
        elif access.is_group_member(principal, group_id) or principal.can("Content__Edit"):
            groups = frozenset({group_id})
        else:
            raise Unauthorized()
        since = self._ctx.clock.now() - POSTS_WINDOW
        rows = await self._store.conversations.for_groups(principal.church_id, groups, since)
        return [await self._conversations.with_edges(r) for r in rows]
