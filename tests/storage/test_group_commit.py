"""Group commit: concurrent posts share a transaction, and one bad post fails alone."""

from __future__ import annotations

import asyncio

from steeple.storage.store import Store
from tests.storage.rows import at, conversation, message


async def test_concurrent_posts_are_all_stored_with_true_stats(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    posts = [message(room, at(i)) for i in range(30)]
    await asyncio.gather(*(store.new_messages.add([post]) for post in posts))
    stored = await store.messages.in_conversation(room["id"])
    assert [m["id"] for m in stored] == [p["id"] for p in posts]
    saved = await store.conversations.get(room["id"])
    assert saved is not None
    assert (saved["postCount"], saved["firstPostId"], saved["lastPostId"]) == (
        30,
        posts[0]["id"],
        posts[-1]["id"],
    )


async def test_a_failing_post_does_not_fail_its_neighbours(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    first = message(room, at(0))
    await store.new_messages.add([first])
    duplicate = first.copy()  # same primary key: the database refuses it
    others = [message(room, at(i)) for i in range(1, 6)]
    results = await asyncio.gather(
        *(store.new_messages.add([row]) for row in [others[0], duplicate, *others[1:]]),
        return_exceptions=True,
    )
    assert isinstance(results[1], Exception)
    assert [r for i, r in enumerate(results) if i != 1] == [None] * 5
    stored = await store.messages.in_conversation(room["id"])
    assert len(stored) == 6
    saved = await store.conversations.get(room["id"])
    assert saved is not None and saved["postCount"] == 6


async def test_a_lone_post_is_committed_without_waiting(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    post = message(room, at())
    await asyncio.wait_for(store.new_messages.add([post]), 5)
    assert await store.messages.get(post["id"]) is not None
