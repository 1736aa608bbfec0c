"""Client fixtures: ``await clients(...)`` makes a ``Client`` of the running node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.client import Client
from steeple.node import Node
from tests.support.client_nodes import MakeClient, Restartable
from tests.support.client_tools import FAST, free_port
from tests.support.nodes import node_settings


@pytest.fixture
async def clients(node: Node) -> AsyncIterator[MakeClient]:
    made: list[Client] = []
    pools: list[httpx.AsyncClient] = []

    async def make(
        *,
        token: str | None = None,
        name: str = "",
        connect: bool = True,
        http: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> Client:
        client = Client(
            node.http_url,
            node.socket_url,
            token=token,
            display_name=name,
            backoff=FAST,
            http=http,
            **options,
        )
        made.append(client)
        if http is not None:
            pools.append(http)
        if connect:
            await client.connect()
        return client

    yield make
    for client in made:
        await client.aclose()
    for pool in pools:  # a pool given to a Client stays the caller's to close
        await pool.aclose()


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    """A running node on fixed free ports, to be stopped and started again."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    server = Restartable(node_settings(db, port=free_port(), socket_port=free_port()))
    await server.start()
    yield server
    await server.stop()
