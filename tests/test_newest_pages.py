"""The newest pages kept encoded, on their own: what is kept, and what is never kept."""

from __future__ import annotations

from steeple.services.newest_pages import NewestPages


def test_a_page_is_kept_until_its_conversation_changes() -> None:
    pages = NewestPages()
    pages.put("room", pages.token(), b"[1]")
    assert pages.get("room") == b"[1]"
    pages.changed("other")
    assert pages.get("room") == b"[1]"  # another room's write leaves it
    pages.changed("room")
    assert pages.get("room") is None


def test_a_page_read_while_any_message_was_written_is_not_kept() -> None:
    pages = NewestPages()
    token = pages.token()  # the read begins
    pages.changed("elsewhere")  # a write commits meanwhile (it might have been this room)
    pages.put("room", token, b"[maybe stale]")
    assert pages.get("room") is None
    pages.put("room", pages.token(), b"[fresh]")  # a read after the write is kept
    assert pages.get("room") == b"[fresh]"


def test_the_least_recently_asked_page_goes_first() -> None:
    pages = NewestPages(capacity=2)
    for room in ("a", "b"):
        pages.put(room, pages.token(), room.encode())
    assert pages.get("a") == b"a"  # "b" is now the least recently asked
    pages.put("c", pages.token(), b"c")
    assert (pages.get("a"), pages.get("b"), pages.get("c")) == (b"a", None, b"c")


def test_the_pages_kept_hold_at_most_the_budget() -> None:
    pages = NewestPages(budget=1_000)
    pages.put("big", pages.token(), b"x" * 251)  # more than a quarter: never kept
    assert pages.get("big") is None
    for room in "abcd":
        pages.put(room, pages.token(), room.encode() * 250)
    assert pages.held == 1_000
    pages.put("e", pages.token(), b"e" * 10)  # the oldest goes to make room
    assert pages.get("a") is None and pages.get("e") == b"e" * 10
    assert pages.held == 760
    pages.put("b", pages.token(), b"b")  # kept again: counted once
    pages.changed("c")
    assert pages.held == 261  # d, e and the new b
