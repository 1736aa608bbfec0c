"""Push devices: B1Mobile's Expo tokens and browsers' web push subscriptions.

Both live in ChurchApps' ``devices`` table; a web push subscription is the row whose
``fcmToken`` starts with ``webpush:`` (see :mod:`steeple.push.subscription`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import DeviceChanges, DeviceRow, as_row, as_rows
from steeple.storage.schema import devices as t


class DeviceRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, row: DeviceRow) -> None:
        async with self._engine.begin() as db:
            await db.execute(t.insert().values(**row))

    async def update(self, device_id: str, values: DeviceChanges) -> None:
        async with self._engine.begin() as db:
            await db.execute(update(t).where(t.c.id == device_id).values(**values))

    async def get(self, church_id: str, device_id: str) -> DeviceRow | None:
        query = select(t).where(t.c.churchId == church_id, t.c.id == device_id)
        async with self._engine.connect() as db:
            return as_row(DeviceRow, (await db.execute(query)).first())

    async def for_person(self, church_id: str, person_id: str) -> list[DeviceRow]:
        """The person's devices, most recently active first."""
        query = (
            select(t)
            .where(t.c.churchId == church_id, t.c.personId == person_id)
            .order_by(t.c.lastActiveDate.desc(), t.c.id)
        )
        async with self._engine.connect() as db:
            return as_rows(DeviceRow, await db.execute(query))

    async def by_token(self, church_id: str, token: str) -> DeviceRow | None:
        query = select(t).where(t.c.churchId == church_id, t.c.fcmToken == token)
        return await self._first(query.order_by(t.c.id))

    async def by_device_id(self, church_id: str, app_name: str, device_id: str) -> DeviceRow | None:
        query = select(t).where(
            t.c.churchId == church_id, t.c.appName == app_name, t.c.deviceId == device_id
        )
        return await self._first(query.order_by(t.c.id))

    async def by_token_prefix(self, church_id: str, prefix: str) -> DeviceRow | None:
        """The church's device whose token starts with ``prefix`` (one web push endpoint)."""
        query = select(t).where(
            t.c.churchId == church_id, t.c.fcmToken.startswith(prefix, autoescape=True)
        )
        return await self._first(query.order_by(t.c.id))

    async def delete(self, church_id: str, device_id: str) -> int:
        query = delete(t).where(t.c.churchId == church_id, t.c.id == device_id)
        async with self._engine.begin() as db:
            return (await db.execute(query)).rowcount

    async def delete_by_token_prefix(self, prefix: str) -> int:
        """Forget every device (any church) whose token starts with ``prefix``."""
        query = delete(t).where(t.c.fcmToken.startswith(prefix, autoescape=True))
        async with self._engine.begin() as db:
            return (await db.execute(query)).rowcount

    async def _first(self, query: Select[Any]) -> DeviceRow | None:
        async with self._engine.connect() as db:
            return as_row(DeviceRow, (await db.execute(query)).first())
