"""Hot write transactions: SQLite's run in the writer thread, all commit or roll back whole."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from steeple.storage.schema import messages
from steeple.storage.store import Store
from tests.storage.rows import at, conversation, message


async def test_a_sqlite_file_database_writes_in_its_writer_thread(store: Store) -> None:
    assert store.transactions.threaded is (store.engine.dialect.name == "sqlite")


async def test_a_transaction_that_raises_leaves_nothing_behind(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    post = message(room, at())

    def insert_then_fail(db: Connection) -> None:
        db.execute(messages.insert(), [post])
        raise RuntimeError("the work failed after its insert")

    with pytest.raises(RuntimeError):
        await store.transactions.run(insert_then_fail)
    assert await store.messages.get(post["id"]) is None


async def test_work_sees_its_own_writes_and_returns_a_value(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    post = message(room, at())

    def insert_and_count(db: Connection) -> int:
        db.execute(messages.insert(), [post])
        return len(db.execute(messages.select()).all())

    assert await store.transactions.run(insert_and_count) == 1
    assert await store.messages.get(post["id"]) is not None


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true",
    ],
)
async def test_an_in_memory_database_keeps_its_one_connection(url: str) -> None:
    """A second connection to an in-memory database would open another, empty one."""
    opened = Store.open(url)
    try:
        assert not opened.transactions.threaded
        assert not opened.checkpoints.enabled
    finally:
        await opened.close()
