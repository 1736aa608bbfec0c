"""API Gateway's side of the aws delivery, for tests: its connections and what they got.

``tests/aws`` (both Lambda functions behind a gateway) and the delivery contract suite
(``tests/delivery``: the aws delivery on its own) share this: settings that point the
aws delivery at a Management API stand-in (``tests/support/management_fake.py``, or
moto's server), the credentials boto3 signs with, and :class:`ConnectionSocket`, a
connection id whose frames are whatever the stand-in received for it.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import pytest

from steeple.settings import Settings
from tests.support.nodes import node_settings

Predicate = Callable[[dict[str, Any]], bool]


class Connections(Protocol):
    """What API Gateway knows of its connections (the fake, or moto)."""

    def connect(self, connection_id: str) -> None: ...
    def disconnect(self, connection_id: str) -> None: ...
    def posted(self, connection_id: str) -> list[bytes]: ...
    def wait_for_post(self, connection_id: str, count: int, timeout: float) -> bool: ...


def new_connection_id() -> str:
    """An id shaped like API Gateway's: 16 characters of base64, ending in ``=``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


def use_test_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
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


class ConnectionSocket:
    """One API Gateway connection as a browser would see it: the frames posted to it.

    Same surface as ``tests.support.wsclient.TestSocket``: frames are consumed by
    ``next``; ``payloads`` gives the bodies exactly as they were posted.
    """

    __test__ = False

    def __init__(self, connections: Connections, connection_id: str) -> None:
        self.connections = connections
        self.connection_id = connection_id
        self.socket_id = connection_id
        self.frames: list[dict[str, Any]] = []
        self._seen = 0

    def _collect(self) -> None:
        posted = self.connections.posted(self.connection_id)
        self.frames.extend(orjson.loads(raw) for raw in posted[self._seen :])
        self._seen = len(posted)

    async def _wait_beyond(self, count: int, timeout: float) -> bool:
        return await asyncio.to_thread(
            self.connections.wait_for_post, self.connection_id, count, timeout
        )

    async def next(
        self, action: str, where: Predicate | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """The first unconsumed frame of ``action`` (matching ``where``)."""
        while True:
            self._collect()
            for index, frame in enumerate(self.frames):
                if frame["action"] == action and (where is None or where(frame)):
                    return self.frames.pop(index)
            if not await self._wait_beyond(self._seen, timeout):
                raise TimeoutError(f"no {action} frame for {self.connection_id}")

    def pending(self, action: str) -> list[dict[str, Any]]:
        self._collect()
        return [f for f in self.frames if f["action"] == action]

    async def payloads(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Every body posted to the connection, once at least ``count`` were."""
        posted = self.connections.posted(self.connection_id)
        if len(posted) < count and not await self._wait_beyond(count - 1, timeout):
            raise TimeoutError(f"fewer than {count} posts to {self.connection_id}")
        return self.connections.posted(self.connection_id)
