"""Private-message threads: one row per person pair, pointing at a conversation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import Row, as_row
from steeple.storage.schema import private_messages as t


class PrivateMessageRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_conversation(self, conversation_id: str) -> Row | None:
        async with self._engine.connect() as db:
            found = await db.execute(select(t).where(t.c.conversationId == conversation_id))
            return as_row(found.first())
