"""Preference rows and their per-category, per-channel overrides."""

from __future__ import annotations

import asyncio
from datetime import time
from typing import Any, cast

from steeple.storage.rows import PreferenceRow
from steeple.storage.store import Store
from tests.storage.rows import at


def preference(person: str = "P1", church: str = "CH1", **fields: Any) -> PreferenceRow:
    row = {
        "id": f"pref-{person}",
        "churchId": church,
        "personId": person,
        "allowPush": True,
        "emailFrequency": "daily",
        "masterMute": False,
        "quietHoursStart": None,
        "quietHoursEnd": None,
        "timeZone": None,
        "allowSms": None,
        "maxPushPerDay": None,
    }
    return cast(PreferenceRow, {**row, **fields})


async def test_a_row_round_trips_with_times_of_day(store: Store) -> None:
    assert await store.preferences.get("CH1", "P1") is None
    row = preference(quietHoursStart=time(22, 30), quietHoursEnd=time(6, 0, 15))
    await store.preferences.add(row)
    assert await store.preferences.get("CH1", "P1") == row
    assert await store.preferences.get("CH2", "P1") is None
    await store.preferences.update(
        row["id"], {"timeZone": "America/Chicago", "maxPushPerDay": 0, "allowPush": False}
    )
    saved = await store.preferences.get("CH1", "P1")
    assert saved is not None
    assert (saved["timeZone"], saved["maxPushPerDay"], saved["allowPush"]) == (
        "America/Chicago",
        0,
        False,
    )
    assert saved["quietHoursStart"] == time(22, 30)


async def test_twin_rows_read_as_the_lowest_id(store: Store) -> None:
    """ChurchApps has no unique key here; reads agree on one row anyway."""
    await store.preferences.add(preference(id="b-twin", emailFrequency="weekly"))
    await store.preferences.add(preference(id="a-twin", emailFrequency="never"))
    for _ in range(3):
        found = await store.preferences.get("CH1", "P1")
        assert found is not None and found["id"] == "a-twin"


async def test_overrides_upsert_per_category_and_channel(store: Store) -> None:
    await store.preferences.set_overrides(
        "CH1", "P1", [("group_messages", "push", False), ("tasks", "email", True)], at(1)
    )
    await store.preferences.set_overrides("CH1", "P1", [("group_messages", "push", True)], at(2))
    await store.preferences.set_overrides("CH1", "P2", [("group_messages", "push", False)], at(3))
    await store.preferences.set_overrides("CH1", "P1", [], at(4))
    rows = await store.preferences.overrides("CH1", "P1")
    assert [(r["categoryKey"], r["channel"], r["optedIn"], r["updatedAt"]) for r in rows] == [
        ("group_messages", "push", True, at(2)),
        ("tasks", "email", True, at(1)),
    ]
    assert len(await store.preferences.overrides("CH1", "P2")) == 1
    assert await store.preferences.overrides("CH2", "P1") == []


async def test_racing_saves_of_new_overrides_all_succeed_and_leave_one_row_per_key(
    store: Store,
) -> None:
    """Saves racing on keys nobody stored yet (MariaDB's gap locks deadlock a naive upsert)."""
    for person in ("P1", "P2", "P3"):
        await asyncio.gather(
            *(
                store.preferences.set_overrides(
                    "CH1", person, [("tasks", "push", i % 2 == 0), ("tasks", "email", True)], at(i)
                )
                for i in range(10)
            )
        )
        rows = await store.preferences.overrides("CH1", person)
        assert [(r["categoryKey"], r["channel"]) for r in rows] == [
            ("tasks", "email"),
            ("tasks", "push"),
        ]
