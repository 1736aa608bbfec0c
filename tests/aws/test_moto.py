"""The happy path against moto's Management API server, which speaks the real AWS wire.

moto keeps every connection "live" and concatenates what each one is sent, so it
serves only for scenarios where nothing is gone; the fake covers the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

from steeple.settings import Settings
from tests.support import scenarios
from tests.support.apigateway import Connections, aws_settings

REGION = "us-east-1"


class MotoConnections:
    """moto's ``apigatewaymanagementapi`` server, read back through its backend."""

    stage = ""  # moto routes only ``/@connections/...`` without a stage

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    @property
    def base_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> MotoConnections:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _stored(self, connection_id: str) -> Any:
        connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION].connections
        for key in (connection_id, quote(connection_id, safe="")):
            if key in connections:
                return connections[key]
        return None

    def connect(self, connection_id: str) -> None:
        """moto treats every id as connected."""

    def disconnect(self, connection_id: str) -> None:
        """Never needed: moto cannot answer 410 anyway."""

    def posted(self, connection_id: str) -> list[bytes]:
        stored = self._stored(connection_id)
        data = stored.data.decode() if stored is not None else ""
        frames, decoder, index = [], json.JSONDecoder(), 0
        while index < len(data):
            frame, index = decoder.raw_decode(data, index)
            frames.append(orjson.dumps(frame))
        return frames

    def wait_for_post(self, connection_id: str, count: int, timeout: float) -> bool:
        """Each invocation has posted everything before it returns: nothing to wait for."""
        return len(self.posted(connection_id)) > count


@pytest.fixture
def management() -> Iterator[Connections]:
    moto = MotoConnections().start()
    yield moto
    moto.stop()


@pytest.fixture
def settings(sqlite_url: str, management: Connections) -> Settings:
    """moto answers its first calls slowly (it builds its backends on demand): a
    PostToConnection timed out at 0.5 s loses the frame, so moto gets 5 s."""
    endpoint = getattr(management, "base_url", "")
    return aws_settings(sqlite_url, endpoint, getattr(management, "stage", ""), aws_timeout=5.0)


async def test_two_viewers_see_each_others_message_exactly_once(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.two_viewers_see_each_others_message_exactly_once(http, sockets)
