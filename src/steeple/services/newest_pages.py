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
BYTES = 16 * 1024 * 1024
"""The most all kept pages may hold together (a typical 200-message page is 50-100 KB;
one of 200 messages of 32 KiB each can be several MB)."""


class NewestPages:
    def __init__(self, capacity: int = PAGES, budget: int = BYTES) -> None:
        self._capacity = capacity
        self._budget = budget
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._held = 0
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
        """Keep ``body`` unless a message was written since ``token``, or it would take
        more than a quarter of the budget."""
        if token != self._writes or len(body) > self._budget // 4:
            return
        self._drop(conversation_id)
        self._pages[conversation_id] = body
        self._held += len(body)
        while len(self._pages) > self._capacity or self._held > self._budget:
            self._held -= len(self._pages.popitem(last=False)[1])

    def changed(self, conversation_id: str) -> None:
        self._writes += 1
        self._drop(conversation_id)

    @property
    def held(self) -> int:
        """Bytes of all kept pages."""
        return self._held

    def _drop(self, conversation_id: str) -> None:
        body = self._pages.pop(conversation_id, None)
        if body is not None:
            self._held -= len(body)


__all__ = ["NewestPages"]
