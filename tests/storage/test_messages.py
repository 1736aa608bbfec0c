"""Messages: stored order, cursors, pages, and the conversation stats the server keeps."""

from __future__ import annotations

from typing import Any

from steeple.storage.rows import ConversationRow, MessageRow
from steeple.storage.store import Store
from tests.storage.rows import at, conversation, message


async def _room(store: Store) -> ConversationRow:
    row = conversation()
    await store.conversations.insert(row)
    return row


async def _stats(store: Store, conversation_id: str) -> tuple[Any, Any, Any]:
    row = await store.conversations.get(conversation_id)
    assert row is not None
    return row["postCount"], row["firstPostId"], row["lastPostId"]


async def test_add_updates_post_count_and_first_and_last(store: Store) -> None:
    room = await _room(store)
    first = message(room, at(1))
    await store.messages.add([first])
    assert await _stats(store, room["id"]) == (1, first["id"], first["id"])
    second, third = message(room, at(2)), message(room, at(3))
    await store.messages.add([second, third])
    assert await _stats(store, room["id"]) == (3, first["id"], third["id"])


async def test_same_millisecond_messages_keep_stored_order(store: Store) -> None:
    room = await _room(store)
    # Ids sorting against the stored order: only microsecond times can keep it.
    stored = [
        message(room, at(5, microseconds=i), f"m{i}", id=f"z{9 - i}zzzzzzzzz") for i in range(1, 6)
    ]
    for row in stored:
        await store.messages.add([row])
    listed = await store.messages.in_conversation(room["id"])
    assert all(type(key) is str for m in listed for key in m)
    assert [m["content"] for m in listed] == ["m1", "m2", "m3", "m4", "m5"]
    after = await store.messages.in_conversation(room["id"], after=stored[1])
    assert [m["content"] for m in after] == ["m3", "m4", "m5"]
    assert await store.messages.in_conversation(room["id"], after=stored[-1]) == []


async def test_in_conversation_is_oldest_first_and_scoped(store: Store) -> None:
    room, other = await _room(store), await _room(store)
    await store.messages.add(
        [
            message(room, at(30), "c"),
            message(room, at(10), "a"),
            message(other, at(20), "elsewhere"),
            message(room, at(20), "b"),
        ]
    )
    assert [m["content"] for m in await store.messages.in_conversation(room["id"])] == [
        "a",
        "b",
        "c",
    ]


def _tied_rows(room: ConversationRow, count: int) -> list[MessageRow]:
    """``count`` messages, three to an instant (a tie: ids settle it), ids sorting
    against the order of the instants."""
    return [
        message(room, at(i // 3), f"m{i}", id=f"{chr(ord('y') - i // 3)}{i % 3}zzzzzzzzz")
        for i in range(count)
    ]


async def test_newest_is_the_last_page_oldest_first(store: Store) -> None:
    room, other = await _room(store), await _room(store)
    await store.messages.add(_tied_rows(room, 8))
    await store.messages.add([message(other, at(100), "elsewhere")])  # newer, another room
    newest = await store.messages.newest(room["id"], 3)
    assert [m["content"] for m in newest] == ["m5", "m6", "m7"]
    everything = await store.messages.newest(room["id"], 50)
    assert [m["content"] for m in everything] == [f"m{i}" for i in range(8)]
    assert await store.messages.newest("nosuchroom1", 3) == []


async def test_pages_after_a_cursor_walk_the_room_once_in_stored_order(store: Store) -> None:
    room, other = await _room(store), await _room(store)
    stored = _tied_rows(room, 11)
    for row in stored[::-1]:  # insertion order must not matter, only (timeSent, id)
        await store.messages.add([row])
    await store.messages.add([message(other, at(2), "elsewhere")])
    first = await store.messages.in_conversation(room["id"], limit=3)
    assert [m["content"] for m in first] == ["m0", "m1", "m2"]
    pages, cursor = [first], first[-1]
    while page := await store.messages.in_conversation(room["id"], cursor, limit=3):
        pages.append(page)
        cursor = page[-1]
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert [m["content"] for p in pages for m in p] == [f"m{i}" for i in range(11)]
    middle = await store.messages.in_conversation(room["id"], stored[4], limit=2)
    assert [m["content"] for m in middle] == ["m5", "m6"]  # m5 ties with m4


async def test_page_is_newest_first(store: Store) -> None:
    room = await _room(store)
    await store.messages.add([message(room, at(i), f"m{i}") for i in range(7)])
    pages = [
        [m["content"] for m in await store.messages.page(room["id"], p, 3)] for p in (1, 2, 3, 4)
    ]
    assert pages == [["m6", "m5", "m4"], ["m3", "m2", "m1"], ["m0"], []]


async def test_delete_keeps_stats_true(store: Store) -> None:
    room = await _room(store)
    rows = [message(room, at(i)) for i in range(3)]
    await store.messages.add(rows)
    await store.messages.delete(rows[2])
    assert await _stats(store, room["id"]) == (2, rows[0]["id"], rows[1]["id"])
    await store.messages.delete(rows[0])
    assert await _stats(store, room["id"]) == (1, rows[1]["id"], rows[1]["id"])
    await store.messages.delete(rows[1])
    assert await _stats(store, room["id"]) == (0, None, None)


async def test_timestamps_and_text_round_trip_exactly(store: Store) -> None:
    room = await _room(store)
    sent = at(123, microseconds=456)
    row = message(room, sent, "emoji 🎉 and ünïcode ✝ " + "x" * 30_000)
    await store.messages.add([row])
    edited = {"content": "edited 🙏", "displayName": "Pat Edited", "timeUpdated": at(999, 1)}
    await store.messages.edit({**row, **edited})
    found = await store.messages.get(row["id"])
    assert found is not None
    assert found["timeSent"] == sent and found["timeSent"].microsecond % 1000 == 456
    assert found["timeUpdated"] == at(999, microseconds=1)
    assert (found["content"], found["displayName"]) == ("edited 🙏", "Pat Edited")
    assert await store.messages.get(row["id"], "CH2") is None
    assert await store.messages.subscribers(room["id"]) == {"P1"}


def _switch(room: ConversationRow, sent: Any, person: str, content: str, **fields: Any) -> Any:
    return message(room, sent, content, personId=person, messageType="subscription", **fields)


async def test_subscribers_are_people_whose_latest_message_is_not_off(store: Store) -> None:
    room, other = await _room(store), await _room(store)
    await store.messages.add(
        [
            message(room, at(1), personId="P1"),  # posted: subscribed
            message(room, at(1), personId="P2"),
            _switch(room, at(2), "P2", "off"),  # posted, then muted
            _switch(room, at(3), "P3", "on"),  # never posted, switched on
            _switch(room, at(1), "P4", "off"),
            message(room, at(4), personId="P4"),  # muted, then posted again
            _switch(room, at(1), "P5", "on"),
            _switch(room, at(2), "P5", "off"),  # on, then off
            message(room, at(5), personId=None),  # anonymous posts subscribe nobody
            message(other, at(9), personId="P6"),  # another conversation
        ]
    )
    assert await store.messages.subscribers(room["id"]) == {"P1", "P3", "P4"}


async def test_subscribers_break_same_time_ties_by_id(store: Store) -> None:
    room = await _room(store)
    same = at(7)
    await store.messages.add(
        [
            message(room, same, personId="P1", id="a0000000000"),
            _switch(room, same, "P1", "off", id="b0000000000"),  # the later of the two
            _switch(room, same, "P2", "off", id="a0000000001"),
            message(room, same, personId="P2", id="b0000000001"),
        ]
    )
    assert await store.messages.subscribers(room["id"]) == {"P2"}
    assert await store.messages.subscribers("nothing-here") == set()
