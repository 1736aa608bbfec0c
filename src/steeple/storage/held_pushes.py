"""Pushes held back for quiet hours: rows, so they survive a restart.

Holding replaces any push already held for the same person and topic (one
conversation keeps only its newest). Releasing is claim-by-delete: of several nodes
that find the same due row, only the one whose delete removed it sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import HeldPushRow, as_rows
from steeple.storage.schema import held_pushes as t

DUE_BATCH = 100


class HeldPushRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hold(self, row: HeldPushRow) -> None:
        """Keep ``row``, in place of the person's held push for the same topic."""
        same = delete(t).where(
            t.c.churchId == row["churchId"],
            t.c.personId == row["personId"],
            t.c.topic == row["topic"],
        )
        async with self._engine.begin() as db:
            await db.execute(same)
            await db.execute(t.insert().values(**row))

    async def due(self, now: datetime, limit: int = DUE_BATCH) -> list[HeldPushRow]:
        """Held pushes whose quiet hours are over, oldest release first."""
        query = select(t).where(t.c.releaseAt <= now).order_by(t.c.releaseAt, t.c.id).limit(limit)
        async with self._engine.connect() as db:
            return as_rows(HeldPushRow, await db.execute(query))

    async def for_person(self, church_id: str, person_id: str) -> list[HeldPushRow]:
        query = (
            select(t)
            .where(t.c.churchId == church_id, t.c.personId == person_id)
            .order_by(t.c.releaseAt, t.c.id)
        )
        async with self._engine.connect() as db:
            return as_rows(HeldPushRow, await db.execute(query))

    async def claim(self, held_id: str) -> bool:
        """Take the row for sending; False if another node already took it."""
        async with self._engine.begin() as db:
            return bool((await db.execute(delete(t).where(t.c.id == held_id))).rowcount)
