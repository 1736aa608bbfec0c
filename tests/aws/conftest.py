"""Fixtures for the AWS deployment: the Management API stand-in, both Lambda functions.

``node``, ``http`` and ``sockets`` are overridden here so the local end-to-end
scenarios run unchanged through API Gateway events and the aws delivery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from steeple.node import Node
from steeple.settings import Settings
from tests.aws.gateway import Connections, Gateway, GatewaySocket
from tests.aws.management_fake import FakeManagementApi
from tests.support.nodes import node_settings

MakeGateway = Callable[[Settings], Awaitable[Gateway]]


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 signs with these; the stand-ins accept any signature."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def management() -> Iterator[Connections]:
    fake = FakeManagementApi(stage="test").start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(management: Connections) -> FakeManagementApi:
    assert isinstance(management, FakeManagementApi)
    return management


def aws_settings(
    database_url: str, endpoint: str, stage: str = "test", **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "delivery_provider": "aws",
        "aws_endpoint_url": endpoint,
        "aws_stage": stage,
        "aws_timeout": 0.5,
        "aws_concurrency": 4,
    }
    values.update(overrides)
    return node_settings(database_url, **values)


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
