"""One row per attempt to reach a person (socket, push, web push), for support and audit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import DeliveryLogRow, as_rows
from steeple.storage.schema import delivery_logs as t

DEFAULT_LIMIT = 100


class DeliveryLogRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, rows: list[DeliveryLogRow]) -> None:
        if rows:
            async with self._engine.begin() as db:
                await db.execute(t.insert(), rows)

    async def for_person(
        self, church_id: str, person_id: str, limit: int = DEFAULT_LIMIT
    ) -> list[DeliveryLogRow]:
        """The person's latest attempts, newest first."""
        query = (
            select(t)
            .where(t.c.churchId == church_id, t.c.personId == person_id)
            .order_by(t.c.attemptTime.desc(), t.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            return as_rows(DeliveryLogRow, await db.execute(query))

    async def pushes_since(
        self, church_id: str, person_id: str, methods: Collection[str], since: datetime
    ) -> int:
        """Successful pushes to the person since ``since``. One push reaches several
        devices at one ``attemptTime``, so it counts once however many rows it wrote."""
        query = select(func.count(distinct(t.c.attemptTime))).where(
            t.c.churchId == church_id,
            t.c.personId == person_id,
            t.c.deliveryMethod.in_(list(methods)),
            t.c.success.is_(True),
            t.c.attemptTime >= since,
        )
        async with self._engine.connect() as db:
            return int((await db.execute(query)).scalar_one())
