"""Group commit: writes that arrive while a commit is running share the next one.

Under load a live room gets many posts (and, as a stream starts, many joins) at
once. Committing them together costs one transaction instead of many (SQLite has one
writer; every database has a commit cost), and the frames of those posts then leave
in the same event-loop tick, so the socket edge writes several frames to each socket
in one system call. With one write at a time nothing waits: it is committed at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Row = TypeVar("Row")
"""The row type of the table the commits write."""


class GroupCommit(Generic[Row]):
    def __init__(self, commit: Callable[[list[Row]], Awaitable[None]]) -> None:
        self._commit = commit
        self._waiting: list[tuple[list[Row], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, rows: list[Row]) -> None:
        """Return once ``rows`` are committed; raise what their commit raised."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._commit([row for rows, _ in batch for row in rows])
            except Exception:
                # One bad write must not fail its neighbours: retry them one by one.
                await self._commit_each(batch)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _commit_each(self, batch: list[tuple[list[Row], asyncio.Future[None]]]) -> None:
        for rows, done in batch:
            try:
                await self._commit(rows)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
                continue
            if not done.done():
                done.set_result(None)
