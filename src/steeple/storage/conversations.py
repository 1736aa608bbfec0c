"""Conversations and their server-kept stats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.message_writes import MessageWrites
from steeple.storage.rows import ConversationRow, as_row, as_rows
from steeple.storage.schema import conversations as t
from steeple.storage.schema import message_reactions, messages, room_settings


class ConversationRepository:
    def __init__(self, engine: AsyncEngine, writes: MessageWrites) -> None:
        self._engine = engine
        self._writes = writes

    async def get(
        self, conversation_id: str, church_id: str | None = None
    ) -> ConversationRow | None:
        query = select(t).where(t.c.id == conversation_id)
        if church_id is not None:
            query = query.where(t.c.churchId == church_id)
        async with self._engine.connect() as db:
            return as_row(ConversationRow, (await db.execute(query)).first())

    async def newest_for_content(
        self, church_id: str, content_type: str, content_id: str, since: datetime
    ) -> ConversationRow | None:
        query = (
            select(t)
            .where(
                t.c.churchId == church_id,
                t.c.contentType == content_type,
                t.c.contentId == content_id,
                t.c.dateCreated >= since,
            )
            .order_by(t.c.dateCreated.desc())
            .limit(1)
        )
        async with self._engine.connect() as db:
            return as_row(ConversationRow, (await db.execute(query)).first())

    async def for_content(
        self, church_id: str, content_type: str, content_id: str
    ) -> list[ConversationRow]:
        query = (
            select(t)
            .where(
                t.c.churchId == church_id,
                t.c.contentType == content_type,
                t.c.contentId == content_id,
            )
            .order_by(t.c.dateCreated.desc())
        )
        async with self._engine.connect() as db:
            return as_rows(ConversationRow, await db.execute(query))

    async def many(self, church_id: str, ids: Iterable[str]) -> list[ConversationRow]:
        query = select(t).where(t.c.churchId == church_id, t.c.id.in_(list(ids)))
        async with self._engine.connect() as db:
            return as_rows(ConversationRow, await db.execute(query))

    async def for_groups(
        self, church_id: str, group_ids: Iterable[str], since: datetime
    ) -> list[ConversationRow]:
        """Conversations of these groups whose last post is newer than ``since``."""
        query = (
            select(t)
            .join(messages, messages.c.id == t.c.lastPostId)
            .where(
                t.c.churchId == church_id,
                t.c.groupId.in_(list(group_ids)),
                messages.c.timeSent >= since,
            )
            .order_by(messages.c.timeSent.desc())
        )
        async with self._engine.connect() as db:
            return as_rows(ConversationRow, await db.execute(query))

    async def insert(self, row: ConversationRow) -> None:
        async with self._engine.begin() as db:
            await db.execute(t.insert().values(**row))

    async def save(self, row: ConversationRow) -> None:
        """Update the editable fields of an existing conversation."""
        values = {
            "contentType": row["contentType"],
            "contentId": row["contentId"],
            "title": row["title"],
            "groupId": row["groupId"],
            "visibility": row["visibility"],
            "allowAnonymousPosts": row["allowAnonymousPosts"],
        }
        async with self._engine.begin() as db:
            await db.execute(update(t).where(t.c.id == row["id"]).values(**values))

    async def delete(self, church_id: str, conversation_id: str) -> bool:
        with self._writes.changing([conversation_id]):
            async with self._engine.begin() as db:
                found = await db.execute(
                    delete(t).where(t.c.churchId == church_id, t.c.id == conversation_id)
                )
                if not found.rowcount:
                    return False
                await db.execute(
                    delete(messages).where(messages.c.conversationId == conversation_id)
                )
                await db.execute(
                    delete(message_reactions).where(
                        message_reactions.c.conversationId == conversation_id
                    )
                )
                await db.execute(
                    delete(room_settings).where(room_settings.c.conversationId == conversation_id)
                )
        return True
