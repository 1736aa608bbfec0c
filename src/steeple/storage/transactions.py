"""Hot write transactions in one round trip to the database thread (SQLite).

Through aiosqlite every driver call is a hand-off to its worker thread and back:
opening a cursor, executing, closing the cursor, the commit, and the pool's rollback
when the connection is given back. A chat post's two statements cost 8 such round
trips, each a queue hand-off and an event-loop wake-up. On a SQLite file database
``Transactions`` runs the whole transaction in a thread of its own instead, through
SQLAlchemy's synchronous engine on the same file with the same pragmas: one round trip
per commit, and the async adapter's greenlet switches are gone too. The statements
are the same either way.

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
    """Runs ``work(connection)`` inside one transaction, committed when it returns."""

    def __init__(self, engine: AsyncEngine, on_commit: Callable[[], None]) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._writer = _SqliteWriter(engine.url) if is_sqlite_file(engine.url) else None

    @property
    def threaded(self) -> bool:
        """Whether the work runs in the SQLite writer's thread (one round trip)."""
        return self._writer is not None

    async def run(self, work: Work[T]) -> T:
        if self._writer is None:
            async with self._engine.begin() as db:
                return await db.run_sync(work)
        done = await self._writer.run(work)
        self._on_commit()  # the async engine's commits are noted by its commit event
        return done

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()


class _SqliteWriter:
    """One thread holding one SQLite connection; each job is one transaction."""

    def __init__(self, url: URL) -> None:
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
        )
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def run(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Work[T]) -> T:
        with self._engine.begin() as db:
            return work(db)

    async def close(self) -> None:
        # The connection was made in the writer's thread: closed there too.
        await asyncio.get_running_loop().run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown(wait=True)
