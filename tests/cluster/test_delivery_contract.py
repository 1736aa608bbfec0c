"""The guarantees of :class:`steeple.delivery.base.Delivery`, checked over every backend.

Each test has a *holder* (the node whose sockets receive) and an *actor* (the node
whose delivery is called). Locally they are one node; over Redis they are two, so
every join, leave and publish crosses the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from steeple.delivery.base import Delivery
from steeple.node import Node
from steeple.protocol.outbound import Outbound
from steeple.types import Room, new_id
from tests.support.cluster import Cluster, forget_prefix, require_redis
from tests.support.services import REDIS_URL
from tests.support.wsclient import TestSocket

ROOM: Room = ("CH1", "room-a")
OTHER: Room = ("CH1", "room-b")


@dataclass
class Pair:
    holder: Node
    actor: Node
    cluster: Cluster

    @property
    def delivery(self) -> Delivery:
        return self.actor.delivery

    async def publish(self, room: Room, content: str) -> None:
        await self.delivery.publish(room, frame(room, content))


class RecordingSocket:
    """A second implementation of the hub's Socket protocol: it keeps what it is given."""

    def __init__(self) -> None:
        self.socket_id = new_id()
        self.address = ""
        self.frames: list[Outbound] = []
        self._arrived = asyncio.Event()

    def deliver(self, frame: Outbound) -> None:
        self.frames.append(frame)
        self._arrived.set()

    def ping(self) -> bool:
        return True

    def close(self, code: int, reason: str) -> None:
        """Nothing to close."""

    async def wait_for(self, count: int) -> None:
        while len(self.frames) < count:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), 5)


def frame(room: Room, content: str) -> Outbound:
    return Outbound.of(room[0], room[1], "message", {"content": content})


def content_is(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["data"]["content"] == text


@pytest.fixture(params=["local", "redis"])
async def pair(request: pytest.FixtureRequest, sqlite_url: str, prefix: str) -> AsyncIterator[Pair]:
    cluster = Cluster(sqlite_url, prefix)
    if request.param == "local":
        (node,) = await cluster.start(1, delivery_provider="local")
        yield Pair(node, node, cluster)
    else:
        require_redis()
        holder, actor = await cluster.start(2)
        yield Pair(holder, actor, cluster)
    await cluster.close()
    await forget_prefix(REDIS_URL, prefix)


async def receive_once(socket: TestSocket, text: str, marker: str) -> None:
    """``text`` arrives, then ``marker``, and nothing else came in between or after."""
    await socket.next("message", content_is(text))
    await socket.next("message", content_is(marker))
    assert socket.pending("message") == []


async def test_every_member_gets_each_frame_exactly_once(pair: Pair) -> None:
    members = [
        await pair.cluster.socket(pair.holder),
        await pair.cluster.socket(pair.holder),
        await pair.cluster.socket(pair.actor),
    ]
    for socket in members:
        await pair.delivery.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "hello")
    await pair.publish(ROOM, "marker")
    for socket in members:
        await receive_once(socket, "hello", "marker")


async def test_membership_takes_effect_when_join_returns(pair: Pair) -> None:
    socket = await pair.cluster.socket(pair.holder)
    await pair.publish(ROOM, "before")
    await pair.delivery.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "after")
    await pair.publish(ROOM, "marker")
    await receive_once(socket, "after", "marker")


async def test_no_frame_after_leave_returns(pair: Pair) -> None:
    socket = await pair.cluster.socket(pair.holder)
    await pair.delivery.join(ROOM, socket.socket_id)
    await pair.delivery.join(OTHER, socket.socket_id)
    await pair.delivery.leave(ROOM, socket.socket_id)
    await pair.publish(ROOM, "left behind")
    await pair.publish(OTHER, "marker")  # one publisher: would arrive after "left behind"
    await socket.next("message", content_is("marker"))
    assert socket.pending("message") == []


async def test_frames_arrive_in_the_order_they_were_published(pair: Pair) -> None:
    socket = await pair.cluster.socket(pair.holder)
    await pair.delivery.join(ROOM, socket.socket_id)
    for number in range(50):
        await pair.publish(ROOM, str(number))
    received = [(await socket.next("message"))["data"]["content"] for _ in range(50)]
    assert received == [str(number) for number in range(50)]


async def test_a_node_encodes_each_frame_once_for_all_its_members(pair: Pair) -> None:
    first, second = RecordingSocket(), RecordingSocket()
    for socket in (first, second):
        pair.holder.hub.add(socket)
        await pair.delivery.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "shared")
    await first.wait_for(1)
    await second.wait_for(1)
    assert first.frames[0] is second.frames[0]
    assert b'"content":"shared"' in first.frames[0].payload


async def test_live_socket_ids_knows_sockets_of_every_node(pair: Pair) -> None:
    here = await pair.cluster.socket(pair.holder)
    there = await pair.cluster.socket(pair.actor)
    gone = await pair.cluster.socket(pair.holder)
    await pair.delivery.join(OTHER, gone.socket_id)
    left = asyncio.Event()

    def room_changed(room: Room, active: bool) -> None:
        if not active:
            left.set()

    pair.holder.hub.room_listeners.append(room_changed)
    await gone.close()
    await asyncio.wait_for(left.wait(), 5)  # the holder has forgotten the closed socket
    candidates = {here.socket_id, there.socket_id, gone.socket_id, "neverExisted"}
    assert await pair.delivery.live_socket_ids(candidates) == {here.socket_id, there.socket_id}


async def test_joining_a_socket_nobody_holds_changes_nothing(pair: Pair) -> None:
    socket = await pair.cluster.socket(pair.holder)
    await pair.delivery.join(ROOM, "noSuchSock1")
    await pair.delivery.leave(ROOM, "noSuchSock1")
    await pair.delivery.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "still works")
    await pair.publish(ROOM, "marker")
    await receive_once(socket, "still works", "marker")


async def test_send_reaches_that_one_socket_only(pair: Pair) -> None:
    """The actor never asked about these sockets: over Redis it does not know their node."""
    chosen = await pair.cluster.socket(pair.holder)
    neighbour = await pair.cluster.socket(pair.holder)
    for socket in (chosen, neighbour):
        await pair.delivery.join(ROOM, socket.socket_id)
    await pair.delivery.send(chosen.socket_id, frame(ROOM, "for you"))
    await pair.delivery.send("noSuchSock1", frame(ROOM, "for nobody"))
    await pair.publish(ROOM, "marker")
    await receive_once(chosen, "for you", "marker")
    await neighbour.next("message", content_is("marker"))
    assert neighbour.pending("message") == []


async def test_health_reports_ok(pair: Pair) -> None:
    assert pair.delivery.health()["ok"] is True
