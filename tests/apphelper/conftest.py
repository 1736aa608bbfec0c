"""Fixtures: Node processes running the published ChurchApps client against a node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from steeple.node import Node
from tests.apphelper.driver import AppHelperClient, node_executable
from tests.client.conftest import Restartable
from tests.client.helpers import free_port
from tests.conftest import node_settings

StartClient = Callable[[Node], Awaitable[AppHelperClient]]


@pytest.fixture
async def start_client() -> AsyncIterator[StartClient]:
    """``await start_client(node)``: a client configured with that node's two URLs."""
    node_executable()  # skip or fail before any node work when Node is missing
    started: list[AppHelperClient] = []

    async def start(node: Node) -> AppHelperClient:
        client = await AppHelperClient.start(node.http_url + "/messaging", node.socket_url)
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    """A node on fixed free ports that a test stops and starts again."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    server = Restartable(node_settings(db, port=free_port(), socket_port=free_port()))
    await server.start()
    yield server
    await server.stop()
