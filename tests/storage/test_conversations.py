"""Conversations: lookups, the 24 h current-room window, listings, and cascading delete."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from steeple.protocol.frames import dumps
from steeple.storage.schema import message_reactions
from steeple.storage.store import Store
from steeple.types import new_id
from tests.storage.rows import at, conversation, message

DAY = timedelta(hours=24)


async def test_get_filters_by_church_and_round_trips_every_column(store: Store) -> None:
    row = conversation(groupId="G1", allowAnonymousPosts=True, title="Ünïcödé ✝ room")
    await store.conversations.insert(row)
    found = await store.conversations.get(row["id"])
    assert found == row
    assert all(type(key) is str for key in found)  # rows are JSON shapes as they are
    assert dumps(found)
    assert await store.conversations.get(row["id"], "CH1") == row
    assert await store.conversations.get(row["id"], "CH2") is None
    assert await store.conversations.get("missing") is None


async def test_newest_for_content_only_within_the_window(store: Store) -> None:
    now = at(10_000)
    old = conversation(
        content_type="streamingLive", content_id="svc", dateCreated=now - DAY - timedelta(seconds=1)
    )
    await store.conversations.insert(old)
    found = await store.conversations.newest_for_content("CH1", "streamingLive", "svc", now - DAY)
    assert found is None
    recent = conversation(
        content_type="streamingLive", content_id="svc", dateCreated=now - timedelta(hours=2)
    )
    newest = conversation(
        content_type="streamingLive", content_id="svc", dateCreated=now - timedelta(hours=1)
    )
    elsewhere = conversation(
        church="CH2", content_type="streamingLive", content_id="svc", dateCreated=now
    )
    for row in (newest, recent, elsewhere):
        await store.conversations.insert(row)
    found = await store.conversations.newest_for_content("CH1", "streamingLive", "svc", now - DAY)
    assert found is not None and found["id"] == newest["id"]
    listed = await store.conversations.for_content("CH1", "streamingLive", "svc")
    assert [r["id"] for r in listed] == [newest["id"], recent["id"], old["id"]]


async def test_many_returns_only_that_churchs_rows(store: Store) -> None:
    mine = [conversation(), conversation()]
    theirs = conversation(church="CH2")
    for row in (*mine, theirs):
        await store.conversations.insert(row)
    ids = [r["id"] for r in (*mine, theirs)] + ["nope"]
    assert {r["id"] for r in await store.conversations.many("CH1", ids)} == {r["id"] for r in mine}
    assert await store.conversations.many("CH1", []) == []


async def test_for_groups_lists_recent_posts_newest_first(store: Store) -> None:
    quiet = conversation(groupId="G1")
    busy = conversation(groupId="G1")
    older = conversation(groupId="G2")
    stale = conversation(groupId="G1")
    never = conversation(groupId="G1")
    foreign = conversation(groupId="G3")
    for row in (quiet, busy, older, stale, never, foreign):
        await store.conversations.insert(row)
    await store.messages.add(
        [
            message(quiet, at(2_000)),
            message(busy, at(5_000)),
            message(older, at(1_000)),
            message(stale, at(-5_000)),
            message(foreign, at(9_000)),
        ]
    )
    found = await store.conversations.for_groups("CH1", ["G1", "G2"], at(0))
    assert [r["id"] for r in found] == [busy["id"], quiet["id"], older["id"]]


async def test_delete_cascades_messages_and_reactions(store: Store) -> None:
    doomed, kept = conversation(), conversation()
    for row in (doomed, kept):
        await store.conversations.insert(row)
    doomed_message, kept_message = message(doomed, at(1)), message(kept, at(2))
    await store.messages.add([doomed_message, kept_message])
    async with store.engine.begin() as db:
        for m in (doomed_message, kept_message):
            await db.execute(
                message_reactions.insert().values(
                    id=new_id(),
                    churchId="CH1",
                    messageId=m["id"],
                    conversationId=m["conversationId"],
                    personId="P1",
                    emoji="👍",
                    timeAdded=at(3),
                )
            )
    assert not await store.conversations.delete("CH2", doomed["id"])  # wrong church
    assert await store.conversations.delete("CH1", doomed["id"])
    assert not await store.conversations.delete("CH1", doomed["id"])
    assert await store.conversations.get(doomed["id"]) is None
    assert await store.messages.get(doomed_message["id"]) is None
    assert await store.messages.get(kept_message["id"]) is not None
    async with store.engine.connect() as db:
        left = await db.scalar(select(func.count()).select_from(message_reactions))
    assert left == 1
