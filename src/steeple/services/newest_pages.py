"""The newest history page of each conversation, encoded once for every caller.

In a spike every arriving viewer asks for the same page (``catchup`` without a cursor):
200 rows read, converted and encoded for each of thousands of joiners, while the room
changes a few times a second. A page is kept as the JSON bytes of its answer until a
message of its conversation is stored, edited or deleted (:class:`MessageWrites`).

A page read while any message was written is not kept (the write may have committed
after the read began, and the read may not show it); one read after the write is.
Only a node that is the database's one writer may keep pages (SQLite, local delivery):
another node's writes would not reach it.
"""

from __future__ import annotations

from collections import OrderedDict

PAGES = 256
"""Conversations whose newest page is kept at once; the least recently asked go first."""


class NewestPages:
    def __init__(self, capacity: int = PAGES) -> None:
        self._capacity = capacity
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._writes = 0

    def get(self, conversation_id: str) -> bytes | None:
        body = self._pages.get(conversation_id)
        if body is not None:
            self._pages.move_to_end(conversation_id)
        return body

    def token(self) -> int:
        """Taken before a page is read; :meth:`put` keeps the page only if no message
        was written since."""
        return self._writes

    def put(self, conversation_id: str, token: int, body: bytes) -> None:
        if token != self._writes:
            return
        self._pages[conversation_id] = body
        self._pages.move_to_end(conversation_id)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)

    def changed(self, conversation_id: str) -> None:
        self._writes += 1
        self._pages.pop(conversation_id, None)


__all__ = ["NewestPages"]
