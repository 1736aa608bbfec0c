"""The newest history page of each conversation, encoded once for every caller.

In a spike every arriving viewer asks for the same page (``catchup`` without a cursor):
200 rows read, converted and encoded for each of thousands of joiners, while the room
gets a few messages a second. A page is kept with each of its rows encoded; a new
message of its conversation joins it in place (encoded alone, the oldest row leaving
a full page), so a chat does not send the next joiner back to the database. An edit or
a deletion drops the page (:class:`~steeple.storage.message_writes.MessageWrites`
tells of each write once its transaction has ended).

A page read while any message was written is not kept: the write may have committed
after the read began, and the read may not show it. Only a node that is the
database's one writer may keep pages (SQLite, local delivery): another node's writes
would not reach it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from steeple.protocol.frames import dumps
from steeple.storage.rows import MessageRow

PAGES = 256
"""Conversations whose newest page is kept at once; the least recently asked go first."""
BYTES = 16 * 1024 * 1024
"""The most all kept pages may hold together (a typical 200-message page is 50-100 KB;
one of 200 messages of 32 KiB each can be several MB)."""

Order = tuple[datetime, str]
"""Where a message stands in its conversation's history: (timeSent, id)."""


@dataclass(frozen=True, slots=True)
class _Page:
    rows: list[tuple[Order, bytes]]
    """Oldest first, each row's JSON."""
    body: bytes
    """The JSON array of them: the answer."""

    @classmethod
    def of(cls, rows: list[tuple[Order, bytes]]) -> _Page:
        return cls(rows, b"[" + b",".join(encoded for _, encoded in rows) + b"]")

    @property
    def size(self) -> int:
        return 2 * len(self.body)


def _entry(row: MessageRow) -> tuple[Order, bytes]:
    return (row["timeSent"], row["id"]), dumps(row)


class NewestPages:
    def __init__(self, limit: int, capacity: int = PAGES, budget: int = BYTES) -> None:
        """``limit``: the messages of a page (``HISTORY_LIMIT``)."""
        self._limit = limit
        self._capacity = capacity
        self._budget = budget
        self._pages: OrderedDict[str, _Page] = OrderedDict()
        self._held = 0
        self._writes = 0
        self.answered = 0
        """Newest pages handed out since start."""
        self.read = 0
        """Of them, pages read from the database (the others were kept)."""

    def __len__(self) -> int:
        return len(self._pages)

    async def page(
        self, conversation_id: str, read: Callable[[], Awaitable[list[MessageRow]]]
    ) -> bytes:
        """The newest page's JSON: the kept one, or ``read()`` encoded (and kept)."""
        self.answered += 1
        kept = self._pages.get(conversation_id)
        if kept is not None:
            self._pages.move_to_end(conversation_id)
            return kept.body
        self.read += 1
        token = self._writes
        page = _Page.of([_entry(row) for row in await read()])
        if token == self._writes:
            self._keep(conversation_id, page)
        return page.body

    def added(self, rows: list[MessageRow]) -> None:
        """New messages were stored: each joins its conversation's kept page."""
        self._writes += 1
        for conversation_id in {row["conversationId"] for row in rows}:
            kept = self._pages.get(conversation_id)
            if kept is None:
                continue
            present = {order[1] for order, _ in kept.rows}
            new = [_entry(r) for r in rows if r["conversationId"] == conversation_id]
            merged = kept.rows + [entry for entry in new if entry[0][1] not in present]
            merged.sort(key=lambda entry: entry[0])  # a late commit may be older
            self._keep(conversation_id, _Page.of(merged[-self._limit :]))

    def changed(self, conversation_id: str) -> None:
        """A message of the conversation was edited or deleted, or the conversation was."""
        self._writes += 1
        self._drop(conversation_id)

    @property
    def held(self) -> int:
        """Bytes the kept pages hold (each row twice: on its own, and in the answer)."""
        return self._held

    def _keep(self, conversation_id: str, page: _Page) -> None:
        """Keep ``page`` unless it would take more than a quarter of the budget."""
        self._drop(conversation_id)
        if page.size > self._budget // 4:
            return
        self._pages[conversation_id] = page
        self._held += page.size
        while len(self._pages) > self._capacity or self._held > self._budget:
            self._held -= self._pages.popitem(last=False)[1].size

    def _drop(self, conversation_id: str) -> None:
        page = self._pages.pop(conversation_id, None)
        if page is not None:
            self._held -= page.size


class NewestPagesCollector(Collector):
    """The kept pages in ``/metrics``: how many and their bytes, the pages answered and
    the ones read from the database for it."""

    def __init__(self, pages: NewestPages) -> None:
        self._pages = pages

    def collect(self) -> Iterator[Metric]:
        pages = self._pages
        yield GaugeMetricFamily(
            "steeple_newest_pages", "Conversations whose newest history page is kept", len(pages)
        )
        yield GaugeMetricFamily(
            "steeple_newest_pages_bytes", "Bytes the kept newest pages hold", pages.held
        )
        yield CounterMetricFamily(
            "steeple_newest_page_answers", "Newest history pages answered", pages.answered
        )
        yield CounterMetricFamily(
            "steeple_newest_page_reads",
            "Newest history pages read from the database (the other answers were kept)",
            pages.read,
        )


__all__ = ["NewestPages", "NewestPagesCollector"]
