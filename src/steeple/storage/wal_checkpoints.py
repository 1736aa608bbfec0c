"""SQLite WAL checkpoints in the background, not on whichever commit crosses the line.

By default SQLite checkpoints inside the commit that grows the write-ahead log past
1,000 pages: about one post in 300 then waits 19-46 ms for pages to be copied into
the database file and synced. Steeple's connections turn that off
(``wal_autocheckpoint=0``, see ``engine.sqlite_pragmas``) and this task checkpoints
instead, after ``every_commits`` commits or ``every_seconds`` seconds with at least
one, whichever comes first. A ``PASSIVE`` checkpoint runs on a pooled connection's
own thread and waits for no reader or writer, so posts commit meanwhile. The log is
started again from its beginning (so the file stays as large as a few seconds of
writes) only by a write that follows a checkpoint which copied everything; commits
that landed during a checkpoint leave frames behind, so another one follows at once,
copying only those few frames, until one finishes with nothing new behind it. Closing the store runs
a ``TRUNCATE`` checkpoint, which leaves an empty log.

A no-op on PostgreSQL and MariaDB, and for an in-memory SQLite database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.stopping import cancel_and_wait

log = logging.getLogger(__name__)

CHECKPOINT_COMMITS = 200
"""Commits after which a checkpoint is due (a post's commit adds about 3-5 pages)."""
CHECKPOINT_SECONDS = 2.0
"""At most this long between a commit and the checkpoint that copies it."""
FOLLOW_UPS = 3
"""Checkpoints run back to back at most while commits keep landing during them."""


class WalCheckpoints:
    def __init__(
        self,
        engine: AsyncEngine,
        every_commits: int = CHECKPOINT_COMMITS,
        every_seconds: float = CHECKPOINT_SECONDS,
    ) -> None:
        self._engine = engine
        self.every_commits = every_commits
        self.every_seconds = every_seconds
        self.enabled = is_sqlite_file(engine.url)
        self.completed = 0
        """Checkpoints run so far (each ``checkpoint`` call)."""
        self._commits = 0
        self._running = False
        self._due = asyncio.Event()
        self._ran = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def committed(self) -> None:
        """Note one commit; the first one starts the background task."""
        if not self.enabled:
            return
        self._commits += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if self._commits >= self.every_commits:
            self._due.set()

    async def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Run one checkpoint: (1 if it could not finish, log frames, frames copied)."""
        async with self._engine.connect() as db:
            answer = await db.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
            busy, frames, copied = tuple(answer.one())
        async with self._ran:
            self.completed += 1
            self._ran.notify_all()
        return int(busy), int(frames), int(copied)

    async def caught_up(self) -> None:
        """Return once a background checkpoint has copied every commit noted so far."""
        if self._task is None:
            return
        async with self._ran:
            while self._commits or self._running:
                if not self._running:
                    self._due.set()
                await self._ran.wait()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self.every_seconds)
            self._due.clear()
            self._running = True
            try:
                await self._catch_up()
            finally:
                self._running = False
            async with self._ran:
                self._ran.notify_all()

    async def _catch_up(self) -> None:
        for _ in range(1 + FOLLOW_UPS):
            if not self._commits:
                return
            self._commits = 0
            try:
                await self.checkpoint("PASSIVE")
            except Exception as exc:  # the next round retries; commits never wait on it
                log.warning("WAL checkpoint failed (%s); retrying later", exc)
                return

    async def close(self) -> None:
        """Stop the task and leave an empty log behind."""
        if self._task is None:
            return
        await cancel_and_wait(self._task, "the WAL checkpoints")
        self._task = None
        try:
            await self.checkpoint("TRUNCATE")
        except Exception as exc:
            log.warning("WAL checkpoint at shutdown failed (%s)", exc)


def is_sqlite_file(url: URL) -> bool:
    """A SQLite database in a file (an in-memory one lives inside one connection)."""
    database = url.database or ""
    in_memory = database == "" or ":memory:" in database or url.query.get("mode") == "memory"
    return url.get_backend_name() == "sqlite" and not in_memory
