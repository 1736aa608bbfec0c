"""Client fixtures: ``await clients(...)`` makes a ``Client`` of the running node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.client import Client
from steeple.node import Node
from steeple.settings import Settings
from tests.client.helpers import FAST, free_port
from tests.conftest import node_settings

MakeClient = Callable[..., Awaitable[Client]]


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


async def live_room(client: Client, church: str = "CH1", service: str = "svc1") -> str:
    """The id of the public live-stream room of ``service``."""
    return str((await client.rest.current_conversation(church, "streamingLive", service))["id"])


class Restartable:
    """A node that can be stopped and started again on the same ports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.node: Node | None = None

    async def start(self) -> Node:
        self.node = Node(self.settings)
        await self.node.start()
        return self.node

    async def stop(self) -> None:
        if self.node is not None:
            await self.node.stop()
            self.node = None


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    """A running node on fixed free ports, to be stopped and started again."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    server = Restartable(node_settings(db, port=free_port(), socket_port=free_port()))
    await server.start()
    yield server
    await server.stop()
