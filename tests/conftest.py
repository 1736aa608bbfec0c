"""Fixtures: real databases, real nodes on port 0, real sockets."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop
from sqlalchemy.engine import make_url

from steeple.node import Node
from steeple.storage.store import Store
from tests.support.nodes import create_postgres, drop_postgres, mariadb, node_settings
from tests.support.services import MARIADB_ADMIN_URL, require
from tests.support.wsclient import TestSocket

TEARDOWN_GRACE = 120.0
"""Seconds the session's own teardown may take before the process leaves anyway."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Any:
    """A watchdog over the session's teardown. A test that fails half-way can leave a
    node's loop with a handle that never closes, and then the process would wait
    forever after the last result: CI would see a hang instead of the failure. Past
    the grace the process exits with the status the tests earned."""

    def leave() -> None:
        sys.stderr.write(f"\nsession teardown exceeded {TEARDOWN_GRACE:.0f} s; exiting\n")
        sys.stderr.flush()
        os._exit(int(session.exitstatus) or (1 if session.testsfailed else 0))

    watchdog = threading.Timer(TEARDOWN_GRACE, leave)
    watchdog.daemon = True
    watchdog.start()
    try:
        return (yield)
    finally:
        watchdog.cancel()


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
        url = await create_postgres()
        yield url
        await drop_postgres(url)
    else:
        require("MariaDB", "127.0.0.1", 3306)
        name = "steeple_t_" + secrets.token_hex(4)
        await mariadb(f"CREATE DATABASE `{name}`")
        yield make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        await mariadb(f"DROP DATABASE IF EXISTS `{name}`")


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
