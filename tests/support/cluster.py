"""A cluster of real nodes over a real Redis and one shared SQL database.

Every test gets its own channel and key prefix, so tests never hear each other on a
shared Redis, and its keys are deleted afterwards."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis.asyncio as redis_client

from steeple.node import Node
from tests.support.nodes import node_settings
from tests.support.services import REDIS_URL, require
from tests.support.wsclient import TestSocket

NODE_TTL = 3.0
"""Short enough that a killed node is noticed quickly, long enough that a busy test
machine never misses a heartbeat."""


def require_redis(url: str = REDIS_URL) -> None:
    parts = urlsplit(url)
    require("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)


class Cluster:
    """Nodes, their HTTP clients and test sockets; everything is closed by the fixture."""

    def __init__(self, database_url: str, prefix: str, redis_url: str = REDIS_URL) -> None:
        self.database_url = database_url
        self.prefix = prefix
        self.redis_url = redis_url
        self.nodes: list[Node] = []
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._sockets: list[TestSocket] = []

    def settings(self, **overrides: Any) -> Any:
        values = {
            "delivery_provider": "redis",
            "redis_url": self.redis_url,
            "redis_prefix": self.prefix,
            "node_ttl": NODE_TTL,
        }
        values.update(overrides)
        return node_settings(self.database_url, **values)

    def environment(self) -> dict[str, str]:
        """The same settings for a ``steeple serve`` subprocess."""
        settings = self.settings()
        return {
            "DELIVERY_PROVIDER": "redis",
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": self.prefix,
            "NODE_TTL": str(NODE_TTL),
            "DATABASE_URL": self.database_url,
            "JWT_SECRET": settings.jwt_secret,
            "ENCRYPTION_KEY": settings.encryption_key,
        }

    async def start(self, count: int = 1, **overrides: Any) -> list[Node]:
        started = []
        for _ in range(count):
            node = Node(self.settings(**overrides))
            await node.start()
            self.nodes.append(node)
            started.append(node)
        return started

    def http(self, node: Node) -> httpx.AsyncClient:
        client = self._clients.get(id(node))
        if client is None:
            client = httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10)
            self._clients[id(node)] = client
        return client

    async def socket(self, node: Node) -> TestSocket:
        socket = await TestSocket.connect(node.socket_url)
        self._sockets.append(socket)
        return socket

    async def close(self) -> None:
        """Close everything, even after one part fails: a node left running would keep
        the test process alive after the session."""
        steps = [socket.close for socket in self._sockets]
        steps += [client.aclose for client in self._clients.values()]
        steps += [node.stop for node in self.nodes]
        failures = []
        for step in steps:
            try:
                await step()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


async def forget_prefix(redis_url: str, prefix: str) -> None:
    client = redis_client.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


SHARED_DATABASES = pytest.mark.parametrize("database_url", ["postgres", "mariadb"], indirect=True)
"""A cluster needs a database every node reaches over the network."""
