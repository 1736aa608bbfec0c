"""Cluster fixtures: a key prefix per test and a cluster over the shared Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from tests.support.cluster import Cluster, forget_prefix, require_redis
from tests.support.processes import RedisServer, free_port
from tests.support.services import REDIS_URL


@pytest.fixture
async def private_redis() -> AsyncIterator[RedisServer]:
    """A redis-server of the test's own, which it may stop and start again."""
    server = RedisServer(free_port())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def prefix() -> str:
    return "steeple-test-" + secrets.token_hex(4)


@pytest.fixture
async def cluster(database_url: str, prefix: str) -> AsyncIterator[Cluster]:
    """Nodes over the shared Redis and one database (parametrize ``database_url``)."""
    require_redis()
    running = Cluster(database_url, prefix)
    yield running
    await running.close()
    await forget_prefix(REDIS_URL, prefix)
