"""Fixtures for the AWS deployment: the Management API stand-in, both Lambda functions.

``node``, ``http`` and ``sockets`` are overridden here so the local end-to-end
scenarios run unchanged through API Gateway events and the aws delivery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest

from steeple.node import Node
from steeple.settings import Settings
from tests.aws.gateway import Gateway, GatewaySocket
from tests.support.apigateway import Connections, aws_settings, use_test_credentials
from tests.support.management_fake import FakeManagementApi

MakeGateway = Callable[[Settings], Awaitable[Gateway]]


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_credentials(monkeypatch)


@pytest.fixture
def management() -> Iterator[Connections]:
    fake = FakeManagementApi(stage="test").start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(management: Connections) -> FakeManagementApi:
    assert isinstance(management, FakeManagementApi)
    return management


@pytest.fixture
def settings(sqlite_url: str, management: Connections) -> Settings:
    endpoint = getattr(management, "base_url", "")
    return aws_settings(sqlite_url, endpoint, getattr(management, "stage", ""))


@pytest.fixture
async def make_gateway(management: Connections) -> AsyncIterator[MakeGateway]:
    started: list[Gateway] = []

    async def make(settings: Settings) -> Gateway:
        gateway = await Gateway.start(settings, management)
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        await gateway.stop()


@pytest.fixture
async def gateway(make_gateway: MakeGateway, settings: Settings) -> Gateway:
    return await make_gateway(settings)


@pytest.fixture
async def node(gateway: Gateway, settings: Settings) -> AsyncIterator[Node]:
    """A node that shares the functions' database, to look at what they stored."""
    observer = Node(settings)
    await observer.store.migrate()
    yield observer
    await observer.stop()


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway.client() as client:
        yield client


@pytest.fixture
async def sockets(gateway: Gateway) -> Callable[[], Awaitable[GatewaySocket]]:
    return gateway.open_socket
