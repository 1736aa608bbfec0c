"""Fixtures: real databases, real nodes on port 0, real sockets."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop
from sqlalchemy.engine import make_url

from steeple.auth.principal import issue_token
from steeple.node import Node
from steeple.settings import Settings
from steeple.storage.store import Store
from tests.services import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL, require
from tests.wsclient import TestSocket

JWT_SECRET = "test-secret-0123456789abcdef0123456789"
ENCRYPTION_KEY = "0123456789abcdef0123456789abcdef"


def node_settings(database_url: str, **overrides: Any) -> Settings:
    env = {"JWT_SECRET": JWT_SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY, "DATABASE_URL": database_url}
    values = {"host": "127.0.0.1", "port": 0, "socket_port": 0, "attendance_interval": 0.02}
    values.update(overrides)
    return Settings.from_env(env).override(**values)


async def _create_postgres() -> str:
    import asyncpg

    name = "steeple_t_" + secrets.token_hex(4)
    url = make_url(POSTGRES_ADMIN_URL)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(db_url: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(db_url).database}" WITH (FORCE)')
    await admin.close()


async def _mariadb(statement: str) -> None:
    import aiomysql

    url = make_url(MARIADB_ADMIN_URL)
    conn = await aiomysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        db=url.database,
    )
    async with conn.cursor() as cursor:
        await cursor.execute(statement)
    conn.close()


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Tests run on uvloop, as ``steeple serve`` does."""
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of each supported kind."""
    kind = request.param
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    elif kind == "postgres":
        require("PostgreSQL", "127.0.0.1", 5432)
        url = await _create_postgres()
        yield url
        await _drop_postgres(url)
    else:
        require("MariaDB", "127.0.0.1", 3306)
        name = "steeple_t_" + secrets.token_hex(4)
        await _mariadb(f"CREATE DATABASE `{name}`")
        yield make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        await _mariadb(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh database of each kind (the storage contract suite)."""
    opened = Store.open(database_url)
    await opened.migrate()
    yield opened
    await opened.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"


@pytest.fixture
async def node(sqlite_url: str) -> AsyncIterator[Node]:
    """A running node on loopback, ports chosen by the OS, SQLite in a temp dir."""
    running = Node(node_settings(sqlite_url))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def http(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as client:
        yield client


@pytest.fixture
async def sockets(node: Node) -> AsyncIterator[Callable[[], Any]]:
    """``await sockets()`` opens a socket to the node that has done its getId handshake."""
    opened: list[TestSocket] = []

    async def open_socket() -> TestSocket:
        socket = await TestSocket.connect(node.socket_url)
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        await socket.close()


def token(church: str = "CH1", person: str = "P1", **claims: Any) -> str:
    return issue_token(
        JWT_SECRET,
        church_id=church,
        person_id=person,
        first_name=claims.pop("first_name", "Pat"),
        last_name=claims.pop("last_name", person),
        **claims,
    )


def auth(church: str = "CH1", person: str = "P1", **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(church, person, **claims)}"}
