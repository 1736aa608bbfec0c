"""ChurchApps' membership database, read only, for a group's feed switches.

Steeple does not own this database: it never migrates or writes it, and it reads one
row of one table, ``groups`` (``id``, ``churchId``, ``discussionsEnabled``,
``announcementsEnabled``), with the column names ChurchApps gives them. Sessions are
opened read-only where the database supports it, as a second guard.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import column, event, quoted_name, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from steeple.errors import ConfigError
from steeple.feeds import UNKNOWN_GROUP, FeedSwitches, switch_on
from steeple.storage.engine import async_url

SETTING = "MEMBERSHIP_DATABASE_URL"
QUERY_TIMEOUT = 5.0
"""Seconds a lookup (connecting included) may take before the database counts as away."""

_GROUPS = table(
    quoted_name("groups", quote=True),  # a reserved word on MySQL 8
    column("id"),
    column("churchId"),
    column("discussionsEnabled"),
    column("announcementsEnabled"),
)


class MembershipDatabase:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> MembershipDatabase:
        """An engine for ``url`` (MySQL/MariaDB or PostgreSQL; plain URLs get the asyncio
        driver); connecting waits for the first lookup."""
        url = async_url(url, SETTING)
        backend = make_url(url).get_backend_name()
        if backend == "postgresql":
            return cls(_postgres_engine(url))
        if backend in ("mysql", "mariadb"):
            return cls(_mysql_engine(url))
        raise ConfigError(f"{SETTING} must be a MySQL/MariaDB or PostgreSQL URL")

    async def switches(self, church_id: str, group_id: str) -> FeedSwitches:
        """The group's switches; :data:`UNKNOWN_GROUP` when the church has no such group.
        Raises TimeoutError, OSError or a SQLAlchemy error when the database is away."""
        query = select(_GROUPS.c.discussionsEnabled, _GROUPS.c.announcementsEnabled).where(
            _GROUPS.c.id == group_id, _GROUPS.c.churchId == church_id
        )
        async with asyncio.timeout(QUERY_TIMEOUT):
            async with self._engine.connect() as db:
                row = (await db.execute(query)).first()
        if row is None:
            return UNKNOWN_GROUP
        return FeedSwitches(discussions=switch_on(row[0]), announcements=switch_on(row[1]))

    async def close(self) -> None:
        await self._engine.dispose()


_POOL: dict[str, Any] = {"pool_size": 2, "max_overflow": 8, "pool_pre_ping": True}


def _postgres_engine(url: str) -> AsyncEngine:
    connect_args = {
        "timeout": QUERY_TIMEOUT,
        "server_settings": {"default_transaction_read_only": "on"},
    }
    return create_async_engine(url, connect_args=connect_args, **_POOL)


def _mysql_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(
        url, connect_args={"connect_timeout": QUERY_TIMEOUT}, pool_recycle=3600, **_POOL
    )
    event.listen(engine.sync_engine, "connect", _mysql_read_only)
    return engine


def _mysql_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()
