"""Fixtures for push: a CA, a fake Web Push service trusted through it, and a node
with web push on, a driven clock, and one push worker (so pushes are handled in the
order they were raised)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from steeple.node import Node
from steeple.push.vapid import VapidKeys
from tests.push.expo_ca import CertificateFiles as Certificates
from tests.push.expo_ca import make_certificates
from tests.push.fake_expo import FakeExpo
from tests.push.fake_web_push import FakeWebPush
from tests.push.helpers import push_settings, running
from tests.support.clocks import DrivenClock
from tests.support.wsclient import TestSocket


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
async def expo(certificates: Certificates) -> AsyncIterator[FakeExpo]:
    """A fake Expo push service over TLS."""
    service = FakeExpo(certificates)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def push_service(certificates: Certificates) -> AsyncIterator[FakeWebPush]:
    async with running(certificates) as service:
        yield service


@pytest.fixture
def vapid() -> VapidKeys:
    return VapidKeys.generate()


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def push_node(
    sqlite_url: str,
    vapid: VapidKeys,
    certificates: Certificates,
    clock: DrivenClock,
    push_service: FakeWebPush,
) -> AsyncIterator[Node]:
    """Started after the push service and stopped before it (its connections close first)."""
    running = Node(push_settings(sqlite_url, vapid, certificates), clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def push_http(push_node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=push_node.http_url + "/messaging", timeout=10) as client:
        yield client


@pytest.fixture
async def push_sockets(push_node: Node) -> AsyncIterator[Callable[[], Awaitable[TestSocket]]]:
    """``await push_sockets()`` opens a socket to the push node; all closed at the end."""
    opened: list[TestSocket] = []

    async def open_socket() -> TestSocket:
        socket = await TestSocket.connect(push_node.socket_url)
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        await socket.close()
