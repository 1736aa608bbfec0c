"""Fixtures: Node processes running the published ChurchApps client against a node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from steeple.node import Node
from tests.apphelper.driver import AppHelperClient, node_executable
from tests.client.conftest import Restartable
from tests.client.helpers import free_port
from tests.conftest import node_settings


class StartClient:
    """Starts clients for one test and stops them after it."""

    def __init__(self) -> None:
        self.started: list[AppHelperClient] = []

    async def __call__(self, node: Node) -> AppHelperClient:
        """A client configured with that node's two URLs."""
        return await self._start(node.http_url + "/messaging", node.socket_url)

    async def from_environment(self, stage: str, env: dict[str, str]) -> AppHelperClient:
        """A client whose URLs the package's CommonEnvironmentHelper.init(stage) reads
        from the apps' environment variables."""
        return await self._start("--stage", stage, env=env)

    async def _start(self, *args: str, env: dict[str, str] | None = None) -> AppHelperClient:
        client = await AppHelperClient.start(*args, env=env)
        self.started.append(client)
        return client

    async def close_all(self) -> None:
        for client in self.started:
            await client.close()


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
