"""Migrations create the ChurchApps tables, are idempotent, and adopt an existing database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from steeple.storage.schema import HISTORY_INDEX, VIEWERS_INDEX, metadata
from steeple.storage.store import Store

CHURCHAPPS_TABLES = {
    "connections",
    "conversations",
    "messages",
    "messageReactions",
    "privateMessages",
    "notifications",
    "blockedIps",
}


async def _tables(store: Store) -> set[str]:
    async with store.engine.connect() as db:
        return set(await db.run_sync(lambda c: inspect(c).get_table_names()))


async def _version(store: Store) -> list[str]:
    async with store.engine.connect() as db:
        return list((await db.scalars(text("SELECT version_num FROM alembic_version"))).all())


async def test_migrate_creates_tables_and_is_idempotent(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        await store.migrate()
        first = await _version(store)
        await store.migrate()
        assert await _tables(store) >= CHURCHAPPS_TABLES
        assert await _version(store) == first and len(first) == 1
        columns = await _columns(store, "connections")
        assert {"churchId", "conversationId", "socketId", "ipAddress", "timeJoined"} <= columns
    finally:
        await store.close()
    again = Store.open(database_url)  # a restart migrates a database that is already current
    try:
        await again.migrate()
        assert await _version(again) == first
    finally:
        await again.close()


async def test_existing_churchapps_database_is_adopted(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        async with store.engine.begin() as db:
            await db.run_sync(metadata.create_all)
        await store.migrate()
        assert len(await _version(store)) == 1
        assert await store.ping()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("table", "index"),
    [("messages", HISTORY_INDEX), ("connections", VIEWERS_INDEX)],
)
async def test_adopted_database_gets_the_indexes_of_the_hot_reads(
    database_url: str, table: str, index: str
) -> None:
    """Upstream's tables lack Steeple's indexes; every history page and every joiner's
    attendance read needs them."""
    store = Store.open(database_url)
    try:
        async with store.engine.begin() as db:
            await db.run_sync(metadata.create_all)
            await db.execute(text(f"DROP INDEX {index}" + _on(db, table)))
        assert index not in await _indexes(store, table)
        await store.migrate()
        assert index in await _indexes(store, table)
        assert await store.messages.newest("conv1", 5) == []
        assert await store.connections.viewers(("CH1", "conv1"), 5) == ([], 0)
    finally:
        await store.close()


def _on(db: AsyncConnection, table: str) -> str:
    """MySQL and MariaDB name the table of a dropped index; the others do not."""
    return f" ON {table}" if db.dialect.name in ("mysql", "mariadb") else ""


async def _indexes(store: Store, table: str) -> set[str]:
    async with store.engine.connect() as db:
        found = await db.run_sync(lambda c: inspect(c).get_indexes(table))
    return {str(index["name"]) for index in found}


async def _columns(store: Store, table: str) -> set[str]:
    async with store.engine.connect() as db:
        found = await db.run_sync(lambda c: inspect(c).get_columns(table))
    return {column["name"] for column in found}


@pytest.mark.parametrize("database_url", ["postgres", "mariadb"], indirect=True)
async def test_nodes_starting_together_migrate_one_at_a_time(database_url: str) -> None:
    """Several nodes share PostgreSQL or MariaDB (SQLite is for one node)."""
    stores = [Store.open(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(store.migrate() for store in stores))
        assert await _tables(stores[0]) >= CHURCHAPPS_TABLES
        assert len(await _version(stores[0])) == 1
    finally:
        for store in stores:
            await store.close()
