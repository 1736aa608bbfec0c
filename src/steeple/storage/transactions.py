"""Hot writes and reads in one round trip to a database thread (SQLite).

Through aiosqlite every driver call is a hand-off to its worker thread and back:
opening a cursor, executing, closing the cursor, the commit, and the pool's rollback
when the connection is given back. A chat post's two statements cost 8 such round
trips, each a queue hand-off and an event-loop wake-up. On a SQLite file database
``Transactions`` runs the whole transaction in a thread of its own instead, through
SQLAlchemy's synchronous engine on the same file with the same pragmas: one round trip
per commit, and the async adapter's greenlet switches are gone too. The statements
are the same either way.

The hot reads (what every joiner of a live room is sent: its viewers and its blocked
addresses) go the same way, through a reader thread of their own (WAL lets it read
while the writer writes): a read through aiosqlite is six round trips or more, and
while the event loop is busy fanning out to thousands each one waits for the loop,
so a joiner's attendance waited tens of milliseconds at 5,000 viewers.

PostgreSQL and MariaDB (and an in-memory SQLite database, which exists only inside
its one connection) run the same work on the async engine, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.engine import sqlite_pragmas
from steeple.storage.wal_checkpoints import is_sqlite_file

T = TypeVar("T")
Work = Callable[[Connection], T]


class Transactions:
    """Runs ``work(connection)`` inside one transaction, committed when it returns, or
    only reading (:meth:`read`)."""

    def __init__(self, engine: AsyncEngine, on_commit: Callable[[], None]) -> None:
        self._engine = engine
        self._on_commit = on_commit
        sqlite_file = is_sqlite_file(engine.url)
        self._writer = _SqliteThread(engine.url, "sqlite-writer") if sqlite_file else None
        self._reader = _SqliteThread(engine.url, "sqlite-reader") if sqlite_file else None

    @property
    def threaded(self) -> bool:
        """Whether the work runs in the SQLite writer's thread (one round trip)."""
        return self._writer is not None

    async def run(self, work: Work[T]) -> T:
        if self._writer is None:
            async with self._engine.begin() as db:
                return await db.run_sync(work)
        done = await self._writer.run(work, commit=True)
        self._on_commit()  # the async engine's commits are noted by its commit event
        return done

    async def read(self, work: Work[T]) -> T:
        """``work(connection)`` that only reads: one round trip to the reader thread."""
        if self._reader is None:
            async with self._engine.connect() as db:
                return await db.run_sync(work)
        return await self._reader.run(work, commit=False)

    async def close(self) -> None:
        for thread in (self._writer, self._reader):
            if thread is not None:
                await thread.close()


class _SqliteThread:
    """One thread holding one SQLite connection; each job is one transaction."""

    def __init__(self, url: URL, name: str) -> None:
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
        )
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, work: Work[T], commit: bool) -> T:
        loop = asyncio.get_running_loop()
        job = self._transaction if commit else self._read
        return await loop.run_in_executor(self._thread, job, work)

    def _transaction(self, work: Work[T]) -> T:
        with self._engine.begin() as db:
            return work(db)

    def _read(self, work: Work[T]) -> T:
        with self._engine.connect() as db:  # rolled back when given back: nothing written
            return work(db)

    async def close(self) -> None:
        # The connection was made in the writer's thread: closed there too.
        await asyncio.get_running_loop().run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)
