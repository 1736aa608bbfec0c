"""Blocked client-address pseudonyms per room."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.schema import blocked_ips as t
from steeple.types import Room


class BlockedIpRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def for_room(self, room: Room) -> list[str]:
        church_id, conversation_id = room
        query = select(t.c.ipAddress).where(
            t.c.churchId == church_id, t.c.conversationId == conversation_id
        )
        async with self._engine.connect() as db:
            return sorted(set((await db.scalars(query)).all()))
