"""Who is told that a conversation's messages changed.

Every repository that inserts, edits or deletes messages calls :meth:`MessageWrites.changed`
once its transaction has ended, whether it committed or raised (a write that raised
may still have committed). What listens keeps copies of what it read, and drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class MessageWrites:
    def __init__(self) -> None:
        self.listeners: list[Callable[[str], None]] = []

    def changed(self, conversation_ids: Iterable[str]) -> None:
        for conversation_id in conversation_ids:
            for listener in self.listeners:
                listener(conversation_id)


__all__ = ["MessageWrites"]
