"""Steeple's per-room settings a host sets (today: slow mode), one row per conversation.

A room without a row has the defaults (slow mode off), so rooms cost nothing until a
host changes something.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.schema import room_settings as t


class RoomSettingsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def slow_mode(self, conversation_id: str) -> int:
        """Seconds between posts per viewer; 0 (off) for a room without settings."""
        query = select(t.c.slowModeSeconds).where(t.c.conversationId == conversation_id)
        async with self._engine.connect() as db:
            return int((await db.scalar(query)) or 0)

    async def put_slow_mode(
        self, church_id: str, conversation_id: str, seconds: int, updated_at: datetime
    ) -> None:
        """Create or replace the room's slow mode."""
        values = {"churchId": church_id, "slowModeSeconds": seconds, "updatedAt": updated_at}
        same = t.c.conversationId == conversation_id
        try:
            async with self._engine.begin() as db:
                if (await db.execute(update(t).where(same).values(**values))).rowcount:
                    return
                await db.execute(t.insert().values(conversationId=conversation_id, **values))
        except (IntegrityError, OperationalError) as exc:
            if isinstance(exc, OperationalError) and not _deadlock(exc):
                raise
            # Two hosts created the row at once: the other insert won (or InnoDB chose
            # this transaction as a deadlock's victim on the gap both were inserting into),
            # so update the row that is there now.
            async with self._engine.begin() as db:
                await db.execute(update(t).where(same).values(**values))


MYSQL_DEADLOCK = 1213


def _deadlock(exc: OperationalError) -> bool:
    """MySQL/MariaDB's "Deadlock found when trying to get lock" (error 1213)."""
    args: tuple[object, ...] = tuple(getattr(exc.orig, "args", ()))
    return bool(args) and args[0] == MYSQL_DEADLOCK
