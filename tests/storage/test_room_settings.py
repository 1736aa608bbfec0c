"""Room settings (slow mode): defaults, create, replace, concurrency, and delete with the room."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from steeple.storage.schema import room_settings
from steeple.storage.store import Store
from tests.storage.rows import at, conversation


async def rows(store: Store) -> int:
    async with store.engine.connect() as db:
        return int(await db.scalar(select(func.count()).select_from(room_settings)) or 0)


async def test_a_room_without_settings_has_slow_mode_off(store: Store) -> None:
    assert await store.room_settings.slow_mode("nothing-here") == 0
    assert await rows(store) == 0


async def test_put_creates_then_replaces_one_row(store: Store) -> None:
    await store.room_settings.put_slow_mode("CH1", "room1", 30, at())
    assert await store.room_settings.slow_mode("room1") == 30
    await store.room_settings.put_slow_mode("CH1", "room1", 5, at(1000))
    await store.room_settings.put_slow_mode("CH1", "room1", 5, at(2000))  # same value again
    assert await store.room_settings.slow_mode("room1") == 5
    await store.room_settings.put_slow_mode("CH1", "room1", 0, at(3000))
    assert await store.room_settings.slow_mode("room1") == 0
    assert await store.room_settings.slow_mode("room2") == 0
    assert await rows(store) == 1
    async with store.engine.connect() as db:
        row = (await db.execute(select(room_settings))).one()
    assert (row.churchId, row.updatedAt) == ("CH1", at(3000))


async def test_concurrent_first_puts_leave_one_row_with_one_of_the_values(store: Store) -> None:
    values = [5, 10, 30, 60]
    await asyncio.gather(
        *(store.room_settings.put_slow_mode("CH1", "raced", v, at(v)) for v in values)
    )
    assert await store.room_settings.slow_mode("raced") in values
    assert await rows(store) == 1


async def test_deleting_the_conversation_deletes_its_settings(store: Store) -> None:
    kept, doomed = conversation(), conversation()
    for row in (kept, doomed):
        await store.conversations.insert(row)
        await store.room_settings.put_slow_mode("CH1", row["id"], 10, at())
    assert await store.conversations.delete("CH1", doomed["id"])
    assert await store.room_settings.slow_mode(doomed["id"]) == 0
    assert await store.room_settings.slow_mode(kept["id"]) == 10
    assert await rows(store) == 1
