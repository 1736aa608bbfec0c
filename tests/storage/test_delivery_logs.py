"""Delivery log rows: one per attempt, listed newest first per person."""

from __future__ import annotations

from typing import Any, cast

from steeple.storage.rows import DeliveryLogRow
from steeple.storage.store import Store
from steeple.types import new_id
from tests.storage.rows import at


def attempt(milliseconds: int, person: str = "P1", **fields: Any) -> DeliveryLogRow:
    row = {
        "id": new_id(),
        "churchId": "CH1",
        "personId": person,
        "contentType": "group",
        "contentId": "G1",
        "deliveryMethod": "webPush",
        "success": True,
        "errorMessage": None,
        "deliveryAddress": "https://push.example/" + "e" * 400,
        "attemptTime": at(milliseconds),
    }
    return cast(DeliveryLogRow, {**row, **fields})


async def test_attempts_are_listed_newest_first_per_person(store: Store) -> None:
    first, failed = attempt(1), attempt(2, success=False, errorMessage="410 Gone " + "x" * 600)
    await store.delivery_logs.add([first, failed, attempt(3, person="P2")])
    await store.delivery_logs.add([])
    assert await store.delivery_logs.for_person("CH1", "P1") == [failed, first]
    assert [r["id"] for r in await store.delivery_logs.for_person("CH1", "P1", limit=1)] == [
        failed["id"]
    ]
    assert await store.delivery_logs.for_person("CH2", "P1") == []
