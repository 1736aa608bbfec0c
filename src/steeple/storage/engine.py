"""Engine creation for SQLite, PostgreSQL and MySQL/MariaDB, and migrations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from steeple.errors import ConfigError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}


def async_url(url: str, setting: str = "DATABASE_URL") -> str:
    """Accept plain URLs (``postgresql://``) and give each the asyncio driver."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"{setting} is not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ConfigError(f"{setting}: unsupported database {backend!r}")
    if "+" in parsed.drivername:
        return url
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


CONNECT_TIMEOUT = 5
"""Seconds to wait for a new database connection: an unreachable host answers 503 soon."""


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    if url.startswith("mysql"):
        kwargs["pool_recycle"] = 3600
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    else:
        kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
    return create_async_engine(url, pool_size=10, max_overflow=20, **kwargs)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL with synchronous=NORMAL: ~16k commits/s here instead of under 1k.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # No checkpoint inside a commit: storage/wal_checkpoints.py runs them meanwhile.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK = 0x5_7EE_91E
"""Advisory-lock key: nodes starting together on a fresh database migrate one at a time."""


def _lock_migrations(connection: Connection) -> Callable[[], object]:
    """Take the database's migration lock; return what releases it.

    SQLite has no such lock and needs none: it serves one node.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Released at commit, after the migration's transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif dialect in ("mysql", "mariadb"):
        connection.execute(text("SELECT GET_LOCK('steeple_migrations', 300)"))
        return lambda: connection.execute(text("SELECT RELEASE_LOCK('steeple_migrations')"))
    return lambda: None


def _upgrade(connection: Connection) -> None:
    release = _lock_migrations(connection)
    try:
        _upgrade_locked(connection)
    finally:
        release()


def _upgrade_locked(connection: Connection) -> None:
    config = _alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "conversations" in tables and "alembic_version" not in tables:
        # An existing ChurchApps database: adopt its tables as they are.
        log.info("existing ChurchApps tables found; marking them as migrated")
        command.stamp(config, "0001")
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every Alembic migration up to head."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
