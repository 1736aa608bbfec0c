"""SQLite WAL checkpoints run in the background: no commit runs one, the log stays bounded,
and what was committed is in the database file after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Connection, make_url

from steeple.node import Node
from steeple.storage.store import Store
from tests.storage.rows import at, conversation, message
from tests.support.nodes import node_settings

ROUNDS, POSTS_PER_ROUND = 30, 40


def wal_size(url: str) -> int:
    wal = Path(str(make_url(url).database) + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    opened = Store.open(sqlite_url)
    await opened.migrate()
    yield opened
    await opened.close()


async def post_rounds(store: Store, checkpoint_each_round: bool) -> list[int]:
    """WAL size after each round of single-post commits."""
    room = conversation()
    await store.conversations.insert(room)
    sizes = []
    for round_ in range(ROUNDS):
        for i in range(POSTS_PER_ROUND):
            await store.new_messages.add([message(room, at(round_ * POSTS_PER_ROUND + i))])
        if checkpoint_each_round:
            await store.checkpoints.caught_up()
        sizes.append(wal_size(str(store.engine.url)))
    return sizes


async def test_no_connection_checkpoints_inside_a_commit(sqlite_store: Store) -> None:
    async with sqlite_store.engine.connect() as db:
        assert (await db.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0

    def writer_setting(db: Connection) -> object:
        return db.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()

    assert await sqlite_store.transactions.run(writer_setting) == 0


async def test_without_background_checkpoints_the_log_grows(sqlite_store: Store) -> None:
    """The control: the bound below holds because of the checkpoints, not by itself."""
    sqlite_store.checkpoints.every_commits = 10**9
    sqlite_store.checkpoints.every_seconds = 3600
    sizes = await post_rounds(sqlite_store, checkpoint_each_round=False)
    assert sizes[-1] > 10 * sizes[0]


async def test_background_checkpoints_keep_the_log_bounded(sqlite_store: Store) -> None:
    sqlite_store.checkpoints.every_commits = POSTS_PER_ROUND
    sqlite_store.checkpoints.every_seconds = 3600
    sizes = await post_rounds(sqlite_store, checkpoint_each_round=True)
    assert sqlite_store.checkpoints.completed >= ROUNDS
    # The log is reused from its start after each complete checkpoint: it stays at
    # about one round's size however many rounds there were.
    assert max(sizes) <= 3 * sizes[0], sizes


async def test_a_restarted_node_sees_every_message_and_no_log_is_left(sqlite_url: str) -> None:
    first = Node(node_settings(sqlite_url))
    await first.start()
    try:
        async with httpx.AsyncClient(base_url=first.http_url + "/messaging", timeout=10) as http:
            room = (await http.get("/conversations/current/CH1/streamingLive/svc1")).json()
        posts = [message(room, at(n), content=f"m{n}") for n in range(150)]
        for post in posts:  # one commit each, through the node's store
            await first.store.new_messages.add([post])
    finally:
        await first.stop()
    assert wal_size(sqlite_url) == 0

    second = Node(node_settings(sqlite_url))
    await second.start()
    try:
        stored = await second.store.messages.in_conversation(room["id"])
        saved = await second.store.conversations.get(room["id"])
    finally:
        await second.stop()
    assert [m["content"] for m in stored] == [f"m{n}" for n in range(150)]
    assert saved is not None and saved["postCount"] == 150
