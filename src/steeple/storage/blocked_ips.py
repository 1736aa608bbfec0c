"""Blocked client-address pseudonyms per room."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import BlockedIpRow
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

    async def toggle(self, rows: list[BlockedIpRow]) -> list[bool]:
        """Unblock each row's address in its room if blocked, else block it; one transaction.

        Returns, per row, whether the address is blocked afterwards.
        """
        results = []
        async with self._engine.begin() as db:
            for row in rows:
                same = (
                    t.c.churchId == row["churchId"],
                    t.c.conversationId == row["conversationId"],
                    t.c.ipAddress == row["ipAddress"],
                )
                if (await db.execute(delete(t).where(*same))).rowcount:
                    results.append(False)
                    continue
                await db.execute(t.insert().values(**row))
                results.append(True)
        return results

    async def clear_services(self, church_id: str, service_ids: list[str]) -> list[Room]:
        """Remove every block of these services; return the rooms that had one."""
        where = (t.c.churchId == church_id, t.c.serviceId.in_(service_ids))
        async with self._engine.begin() as db:
            found = await db.execute(select(t.c.churchId, t.c.conversationId).where(*where))
            rooms = sorted({(r.churchId, r.conversationId) for r in found})
            await db.execute(delete(t).where(*where))
        return rooms
