"""Fixtures: Node processes running the published ChurchApps client against a node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.apphelper.driver import StartClient, node_executable
from tests.support.client_nodes import Restartable
from tests.support.client_tools import free_port
from tests.support.nodes import node_settings


@pytest.fixture
async def start_client() -> AsyncIterator[StartClient]:
    """``await start_client(node)``; ``await start_client.from_environment(...)``."""
    node_executable()  # skip or fail before any node work when Node is missing
    starter = StartClient()
    yield starter
    await starter.close_all()


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    """A node on fixed free ports that a test stops and starts again."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    server = Restartable(node_settings(db, port=free_port(), socket_port=free_port()))
    await server.start()
    yield server
    await server.stop()
