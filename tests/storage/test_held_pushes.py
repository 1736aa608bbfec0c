"""Held pushes (quiet hours) and the daily push count, on every supported database."""

from __future__ import annotations

from typing import Any, cast

from steeple.storage.rows import DeliveryLogRow, HeldPushRow
from steeple.storage.store import Store
from steeple.types import new_id
from tests.storage.rows import at


def held(topic: str, body: str, release_ms: int, person: str = "P1") -> HeldPushRow:
    return {
        "id": new_id(),
        "churchId": "CH1",
        "personId": person,
        "topic": topic,
        "category": "direct_messages",
        "contentType": "privateMessage",
        "contentId": "T1",
        "title": "New message from Ann",
        "body": body,
        "link": f"/messages/{topic}",
        "urgent": True,
        "heldAt": at(0),
        "releaseAt": at(release_ms),
    }


def attempt(milliseconds: int, person: str = "P1", **fields: Any) -> DeliveryLogRow:
    row = {
        "id": new_id(),
        "churchId": "CH1",
        "personId": person,
        "contentType": "privateMessage",
        "contentId": "T1",
        "deliveryMethod": "webPush",
        "success": True,
        "errorMessage": None,
        "deliveryAddress": "push.example",
        "attemptTime": at(milliseconds),
    }
    return cast(DeliveryLogRow, {**row, **fields})


async def test_a_newer_push_replaces_the_held_one_of_its_conversation(store: Store) -> None:
    await store.held_pushes.hold(held("C1", "first", 10))
    await store.held_pushes.hold(held("C2", "other", 20))
    newest = held("C1", "second", 30)
    await store.held_pushes.hold(newest)
    await store.held_pushes.hold(held("C1", "for P2", 10, person="P2"))
    rows = await store.held_pushes.for_person("CH1", "P1")
    assert [(r["topic"], r["body"]) for r in rows] == [("C2", "other"), ("C1", "second")]
    assert rows[1] == newest


async def test_due_rows_come_oldest_first_and_are_claimed_once(store: Store) -> None:
    late, early = held("C1", "late", 50), held("C2", "early", 10)
    await store.held_pushes.hold(late)
    await store.held_pushes.hold(early)
    assert [r["id"] for r in await store.held_pushes.due(at(9))] == []
    assert [r["id"] for r in await store.held_pushes.due(at(50))] == [early["id"], late["id"]]
    assert await store.held_pushes.claim(early["id"]) is True
    assert await store.held_pushes.claim(early["id"]) is False  # another node took it
    assert [r["id"] for r in await store.held_pushes.due(at(60))] == [late["id"]]


async def test_pushes_since_counts_successful_attempts_once_per_send(store: Store) -> None:
    await store.delivery_logs.add(
        [
            attempt(5),  # before the day began
            attempt(10),
            attempt(10),  # a second device of the same send
            attempt(20, deliveryMethod="push"),
            attempt(30, success=False),
            attempt(40, deliveryMethod="socket"),
            attempt(50, person="P2"),
        ]
    )
    count = store.delivery_logs.pushes_since
    assert await count("CH1", "P1", {"webPush", "push"}, at(10)) == 2
    assert await count("CH1", "P1", {"webPush"}, at(0)) == 2
    assert await count("CH2", "P1", {"webPush", "push"}, at(0)) == 0
