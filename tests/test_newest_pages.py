"""The newest pages kept encoded, on their own: what is kept, how a post joins a kept
page, and what is never kept. The rows are real message rows; the reads are counted."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from steeple.services.newest_pages import NewestPages
from steeple.storage.rows import MessageRow

START = datetime(2026, 12, 6, 10, 0)


def row(number: int, room: str = "room", content: str = "") -> MessageRow:
    return {
        "id": f"m{number:03d}",
        "churchId": "CH1",
        "conversationId": room,
        "displayName": "Ann",
        "timeSent": START + timedelta(seconds=number),
        "messageType": "message",
        "content": content or f"message {number}",
        "personId": None,
        "timeUpdated": None,
    }


class Database:
    """What the pages would read: the rows, and how often they were read."""

    def __init__(self, *rows: MessageRow) -> None:
        self.rows = list(rows)
        self.reads = 0

    async def read(self) -> list[MessageRow]:
        self.reads += 1
        return list(self.rows)


def ids(body: bytes) -> list[str]:
    return [message["id"] for message in orjson.loads(body)]


async def test_a_page_is_read_once_and_kept_until_its_conversation_changes() -> None:
    pages, database = NewestPages(limit=3), Database(row(1), row(2))
    assert ids(await pages.page("room", database.read)) == ["m001", "m002"]
    assert ids(await pages.page("room", database.read)) == ["m001", "m002"]
    assert database.reads == 1
    pages.changed("other")
    await pages.page("room", database.read)
    assert database.reads == 1  # another room's edit leaves it
    pages.changed("room")
    await pages.page("room", database.read)
    assert database.reads == 2


async def test_a_post_joins_the_kept_page_in_order_and_the_oldest_leaves() -> None:
    pages, database = NewestPages(limit=3), Database(row(1), row(3))
    await pages.page("room", database.read)
    pages.added([row(5), row(2, room="elsewhere")])
    assert ids(await pages.page("room", database.read)) == ["m001", "m003", "m005"]
    pages.added([row(4), row(6)])  # m004 committed late: it goes before m005
    body = await pages.page("room", database.read)
    assert ids(body) == ["m004", "m005", "m006"]
    assert database.reads == 1
    assert orjson.loads(body)[0]["timeSent"] == "2026-12-06T10:00:04.000Z"


async def test_a_post_the_page_already_shows_is_not_shown_twice() -> None:
    """A read that began after the commit but before the node was told sees the post."""
    pages, database = NewestPages(limit=3), Database(row(1), row(2))
    await pages.page("room", database.read)
    pages.added([row(2)])
    assert ids(await pages.page("room", database.read)) == ["m001", "m002"]


async def test_a_page_read_while_any_message_was_written_is_not_kept() -> None:
    pages = NewestPages(limit=3)

    async def read_during_a_write() -> list[MessageRow]:
        pages.changed("elsewhere")  # a write commits while the read runs
        return [row(1)]

    assert ids(await pages.page("room", read_during_a_write)) == ["m001"]
    database = Database(row(1))
    await pages.page("room", database.read)
    assert database.reads == 1  # read again, and kept this time
    await pages.page("room", database.read)
    assert database.reads == 1


async def test_the_least_recently_asked_page_goes_first() -> None:
    pages, database = NewestPages(limit=3, capacity=2), Database(row(1))
    for room in ("a", "b", "a", "c"):
        await pages.page(room, database.read)
    assert database.reads == 3
    await pages.page("b", database.read)  # "b" went when "c" came
    assert database.reads == 4


async def test_the_pages_kept_hold_at_most_the_budget() -> None:
    big = Database(*(row(n, content="x" * 200) for n in range(5)))
    small = Database(row(1))
    one_row = 2 * len(await NewestPages(limit=1).page("probe", small.read))
    pages = NewestPages(limit=5, budget=4 * one_row)
    await pages.page("big", big.read)
    assert pages.held == 0  # more than a quarter of the budget: never kept
    for room in "abcd":
        await pages.page(room, small.read)
    assert pages.held == 4 * one_row
    await pages.page("e", small.read)  # the oldest goes to make room
    assert pages.held == 4 * one_row
    reads = small.reads
    await pages.page("a", small.read)
    assert small.reads == reads + 1
