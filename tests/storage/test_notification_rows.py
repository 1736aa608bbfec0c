"""Notification rows addressed by id: get and delete stay inside their church."""

from __future__ import annotations

from steeple.storage.store import Store
from tests.storage.test_messaging_extras import notification


async def test_get_and_delete_by_id_within_the_church(store: Store) -> None:
    mine, other = notification("P1", "G1"), notification("P2", "G1")
    await store.notifications.add([mine, other])
    assert await store.notifications.get("CH1", mine["id"]) == mine
    assert await store.notifications.get("CH2", mine["id"]) is None
    assert await store.notifications.delete("CH2", mine["id"]) == 0
    assert await store.notifications.delete("CH1", mine["id"]) == 1
    assert await store.notifications.get("CH1", mine["id"]) is None
    assert await store.notifications.get("CH1", other["id"]) == other
