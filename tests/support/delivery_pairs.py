"""A *holder* and an *actor* over each delivery backend, for the delivery contract suite.

The actor is the node whose delivery a test calls; the holder holds the sockets that
receive. Locally they are one node; over Redis they are two, so every join, leave and
publish crosses the cluster. Over AWS the actor is the aws delivery, as a Lambda
container runs it, and the holder is API Gateway: the Management API stand-in, where
each socket is a registered connection and receives what was posted to it.
"""

from __future__ import annotations

import asyncio
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from steeple.clock import Clock
from steeple.delivery.backends import Wiring, create_delivery
from steeple.delivery.base import Delivery
from steeple.hub import Hub
from steeple.node import Node
from steeple.protocol.frames import Action
from steeple.protocol.outbound import Outbound
from steeple.storage.rows import ConnectionRow
from steeple.storage.store import Store
from steeple.types import Room, new_id
from tests.support.apigateway import (
    ConnectionSocket,
    aws_settings,
    new_connection_id,
    use_test_credentials,
)
from tests.support.cluster import Cluster, forget_prefix, require_redis
from tests.support.management_fake import FakeManagementApi
from tests.support.services import REDIS_URL
from tests.support.sockets import RecordingSocket
from tests.support.wsclient import TestSocket

BACKENDS = ("local", "redis", "aws")

Predicate = Callable[[dict[str, Any]], bool]


class Socket(Protocol):
    """What a contract test reads of a socket (a real one, or an API Gateway connection)."""

    @property
    def socket_id(self) -> str: ...

    async def next(
        self, action: str, where: Predicate | None = None, timeout: float = 15.0
    ) -> dict[str, Any]: ...

    def pending(self, action: str) -> list[dict[str, Any]]: ...


class Recorder(Protocol):
    """A socket that gives back the bytes it was sent."""

    @property
    def socket_id(self) -> str: ...

    async def payloads(self, count: int, timeout: float = 5.0) -> list[bytes]: ...


def message(room: Room, content: str) -> Outbound:
    return Outbound.of(room[0], room[1], Action.MESSAGE, {"content": content})


class Pair(ABC):
    delivery: Delivery
    """The actor's delivery."""

    async def publish(self, room: Room, content: str) -> None:
        await self.delivery.publish(room, message(room, content))

    @abstractmethod
    async def socket(self, at_actor: bool = False) -> Socket:
        """A socket held by the holder (or, where the backend has one, by the actor)."""

    @abstractmethod
    async def recorder(self) -> Recorder:
        """A socket of the holder that keeps the bytes it is sent."""

    @abstractmethod
    async def join(self, room: Room, socket_id: str) -> bool:
        """Make the socket a member as the connection service does; the delivery's answer."""

    @abstractmethod
    async def leave(self, room: Room, socket_id: str) -> None: ...

    @abstractmethod
    async def close(self, socket: Socket, last_in: Room) -> None:
        """Close ``socket``, the holder's last member of ``last_in``; return once the
        holder has forgotten it."""

    @abstractmethod
    async def stop(self) -> None: ...


class HubPair(Pair):
    """Nodes whose hubs hold real sockets: ``local`` (one node) or ``redis`` (two)."""

    def __init__(self, holder: Node, actor: Node, cluster: Cluster) -> None:
        self.holder = holder
        self.actor = actor
        self.cluster = cluster
        self.delivery = actor.delivery

    async def socket(self, at_actor: bool = False) -> Socket:
        return await self.cluster.socket(self.actor if at_actor else self.holder)

    async def recorder(self) -> Recorder:
        recorder = RecordingSocket(new_id())
        self.holder.hub.add(recorder)
        return recorder

    async def join(self, room: Room, socket_id: str) -> bool:
        return await self.delivery.join(room, socket_id)

    async def leave(self, room: Room, socket_id: str) -> None:
        await self.delivery.leave(room, socket_id)

    async def close(self, socket: Socket, last_in: Room) -> None:
        left = asyncio.Event()

        def room_changed(room: Room, active: bool) -> None:
            if room == last_in and not active:
                left.set()

        self.holder.hub.room_listeners.append(room_changed)
        assert isinstance(socket, TestSocket)
        await socket.close()
        await asyncio.wait_for(left.wait(), 5)  # the holder has forgotten the closed socket

    async def stop(self) -> None:
        await self.cluster.close()
        await forget_prefix(REDIS_URL, self.cluster.prefix)


class AwsPair(Pair):
    """The aws delivery and API Gateway's connections.

    The delivery's fan-out list is the room's connection rows: ``join`` only asks API
    Gateway whether the connection is live, and the connection service writes the row
    once it says yes; a leave deletes the row before it calls ``leave``. The pair does
    both, against a real store. There is no hub, so there is no socket "at the actor":
    API Gateway holds every one.
    """

    def __init__(self, gateway: FakeManagementApi, store: Store, delivery: Delivery) -> None:
        self.gateway = gateway
        self.store = store
        self.delivery = delivery
        self._clock = Clock()

    async def socket(self, at_actor: bool = False) -> ConnectionSocket:
        connection_id = new_connection_id()
        self.gateway.connect(connection_id)
        return ConnectionSocket(self.gateway, connection_id)

    async def recorder(self) -> Recorder:
        return await self.socket()

    async def join(self, room: Room, socket_id: str) -> bool:
        joined = await self.delivery.join(room, socket_id)
        if joined:
            row: ConnectionRow = {
                "id": new_id(),
                "churchId": room[0],
                "conversationId": room[1],
                "personId": None,
                "displayName": "",
                "timeJoined": self._clock.now(),
                "socketId": socket_id,
                "ipAddress": "",
            }
            await self.store.connections.replace([row])
        return joined

    async def leave(self, room: Room, socket_id: str) -> None:
        await self.store.connections.remove(room, socket_id)
        await self.delivery.leave(room, socket_id)

    async def close(self, socket: Socket, last_in: Room) -> None:
        """API Gateway forgets the connection, then ``$disconnect`` removes its rows."""
        self.gateway.disconnect(socket.socket_id)
        await self.store.connections.remove_socket(socket.socket_id)

    async def stop(self) -> None:
        try:
            await self.delivery.stop()
            await self.store.close()
        finally:
            self.gateway.stop()


async def start_pair(backend: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Pair:
    if backend == "aws":
        return await _start_aws(database_url, monkeypatch)
    cluster = Cluster(database_url, "steeple-test-" + secrets.token_hex(4))
    if backend == "local":
        (node,) = await cluster.start(1, delivery_provider="local")
        return HubPair(node, node, cluster)
    require_redis()
    holder, actor = await cluster.start(2)
    return HubPair(holder, actor, cluster)


async def _start_aws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AwsPair:
    use_test_credentials(monkeypatch)
    gateway = FakeManagementApi(stage="test").start()
    # No contract test waits on a slow post: a generous timeout keeps a busy machine
    # from losing a frame to it.
    settings = aws_settings(database_url, gateway.base_url, aws_timeout=5.0)
    store = Store.open(settings.database_url)
    await store.migrate()

    async def socket_gone(socket_id: str) -> None:
        await store.connections.remove_socket(socket_id)

    delivery = create_delivery(settings, Wiring(Hub(), store, socket_gone=socket_gone))
    await delivery.start()
    return AwsPair(gateway, store, delivery)
