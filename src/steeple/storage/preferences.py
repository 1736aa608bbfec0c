"""A person's notification preferences and their per-category, per-channel overrides.

ChurchApps keeps no unique key on (churchId, personId) in ``notificationPreferences``,
so two first reads racing may both create a row; every read picks the same one (the
lowest id), which makes such a twin harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import Executable

from steeple.storage.rows import (
    PreferenceChanges,
    PreferenceOverrideRow,
    PreferenceRow,
    as_row,
    as_rows,
)
from steeple.storage.schema import notification_preference_overrides as o
from steeple.storage.schema import notification_preferences as t
from steeple.types import new_id

Choice = tuple[str, str, bool]
"""(categoryKey, channel, optedIn)."""


class PreferenceRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, church_id: str, person_id: str) -> PreferenceRow | None:
        query = (
            select(t)
            .where(t.c.churchId == church_id, t.c.personId == person_id)
            .order_by(t.c.id)
            .limit(1)
        )
        async with self._engine.connect() as db:
            return as_row(PreferenceRow, (await db.execute(query)).first())

    async def add(self, row: PreferenceRow) -> None:
        async with self._engine.begin() as db:
            await db.execute(t.insert().values(**row))

    async def update(self, preference_id: str, values: PreferenceChanges) -> None:
        if values:
            async with self._engine.begin() as db:
                await db.execute(update(t).where(t.c.id == preference_id).values(**values))

    async def overrides(self, church_id: str, person_id: str) -> list[PreferenceOverrideRow]:
        query = (
            select(o)
            .where(o.c.churchId == church_id, o.c.personId == person_id)
            .order_by(o.c.categoryKey, o.c.channel)
        )
        async with self._engine.connect() as db:
            return as_rows(PreferenceOverrideRow, await db.execute(query))

    async def set_overrides(
        self, church_id: str, person_id: str, choices: Iterable[Choice], now: datetime
    ) -> None:
        """Upsert each choice, all in one transaction.

        One native upsert per key (no read-then-insert): two saves racing on a key
        neither has stored yet would otherwise deadlock on MariaDB's gap locks or break
        the unique key. Keys are written in one order, so racing saves queue instead of
        deadlocking each other.
        """
        rows: list[PreferenceOverrideRow] = [
            {
                "id": new_id(),
                "churchId": church_id,
                "personId": person_id,
                "categoryKey": category,
                "channel": channel,
                "optedIn": opted_in,
                "updatedAt": now,
            }
            for category, channel, opted_in in sorted(choices)
        ]
        if not rows:
            return
        async with self._engine.begin() as db:
            for row in rows:
                await db.execute(_upsert(db.dialect.name, row))


_OVERRIDE_KEY = ("churchId", "personId", "categoryKey", "channel")


def _upsert(dialect: str, row: PreferenceOverrideRow) -> Executable:
    """INSERT, or on the unique key UPDATE optedIn and updatedAt, in each dialect's words."""
    if dialect in ("mysql", "mariadb"):
        mine = mysql.insert(o).values(**row)
        return mine.on_duplicate_key_update(
            optedIn=mine.inserted.optedIn, updatedAt=mine.inserted.updatedAt
        )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    other = insert(o).values(**row)
    return other.on_conflict_do_update(
        index_elements=[o.c[name] for name in _OVERRIDE_KEY],
        set_={"optedIn": other.excluded.optedIn, "updatedAt": other.excluded.updatedAt},
    )
