"""Who is told that messages were written.

Every repository that inserts, edits or deletes messages tells :class:`MessageWrites`
once its transaction has ended: :meth:`~MessageWatcher.added` with the rows it stored,
:meth:`~MessageWatcher.changed` for each conversation otherwise, and also after a write
that raised (it may still have committed). What watches keeps copies of what it read,
and brings them up to date or drops them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from steeple.storage.rows import MessageRow


class MessageWatcher(Protocol):
    def added(self, rows: list[MessageRow]) -> None: ...

    def changed(self, conversation_id: str) -> None: ...


class MessageWrites:
    def __init__(self) -> None:
        self.watchers: list[MessageWatcher] = []

    def added(self, rows: list[MessageRow]) -> None:
        for watcher in self.watchers:
            watcher.added(rows)

    @contextlib.contextmanager
    def changing(self, conversation_ids: Iterable[str]) -> Iterator[None]:
        """Around a write that edits or deletes: :meth:`changed` once it has ended,
        committed or raised."""
        try:
            yield
        finally:
            self.changed(conversation_ids)

    def changed(self, conversation_ids: Iterable[str]) -> None:
        for conversation_id in conversation_ids:
            for watcher in self.watchers:
                watcher.changed(conversation_id)


__all__ = ["MessageWatcher", "MessageWrites"]
