"""A Redis restart under load: nothing acknowledged is silently lost.

Two nodes over a private redis-server, sockets on both, posts to both while Redis is
stopped and started again on the same port (it keeps nothing on disk). Every socket
either receives every acknowledged message exactly once, or is closed with 1012, in
which case the client library's subscriber on it catches up and ends with everything.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from steeple.client import Client, ConversationSnapshot
from steeple.delivery.redis import RedisDelivery
from steeple.node import Node
from tests.support.client_tools import FAST, Recorder, eventually
from tests.support.cluster import Cluster, forget_prefix
from tests.support.processes import RedisServer
from tests.support.steps import join, live_room, send
from tests.support.wsclient import TestSocket

POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
SOCKETS_PER_NODE = 4
SERVICE_RESTART = 1012


@pytest.fixture
async def blip_cluster(
    database_url: str, prefix: str, private_redis: RedisServer
) -> AsyncIterator[Cluster]:
    cluster = Cluster(database_url, prefix, private_redis.url)
    yield cluster
    await cluster.close()
    await forget_prefix(private_redis.url, prefix)


def message_ids(socket: TestSocket) -> Counter[str]:
    return Counter(f["data"]["id"] for f in socket.frames if f["action"] == "message")


def settled(socket: TestSocket, acknowledged: set[str]) -> bool:
    """Closed, or holding every acknowledged message."""
    return socket.ws.close_code is not None or acknowledged <= message_ids(socket).keys()


def assert_exactly_once_or_1012(sockets: list[TestSocket], acknowledged: set[str]) -> int:
    """Return how many sockets were closed with 1012."""
    closed = 0
    for socket in sockets:
        if socket.ws.close_code is not None:
            assert socket.ws.close_code == SERVICE_RESTART, socket.ws.close_code
            closed += 1
            continue
        counts = message_ids(socket)
        assert acknowledged <= counts.keys(), sorted(acknowledged - counts.keys())
        assert set(counts.values()) == {1}, [i for i, n in counts.items() if n > 1]
    return closed


async def subscriber(node: Node, room_id: str) -> tuple[Client, Recorder[ConversationSnapshot]]:
    client = Client(node.http_url, node.socket_url, display_name="Sub", backoff=FAST)
    await client.connect()
    seen = Recorder[ConversationSnapshot]()
    await client.conversations.open("CH1", room_id)
    client.conversations.subscribe(room_id, seen)
    return client, seen


def has_all(acknowledged: set[str]) -> Callable[[ConversationSnapshot], bool]:
    return lambda snapshot: acknowledged <= {m.id for m in snapshot.messages}


async def storm(
    cluster: Cluster, nodes: list[Node], room: dict[str, Any], count: int, at: dict[int, Any]
) -> set[str]:
    """Post ``count`` messages round-robin over ``nodes``; run ``at[n]`` before post n."""
    acknowledged: set[str] = set()
    for number in range(count):
        if number in at:
            await at[number]()
        node = nodes[number % len(nodes)]
        acknowledged.add((await send(cluster.http(node), room, f"m{number}"))["id"])
    return acknowledged


async def room_with_sockets(
    cluster: Cluster, nodes: list[Node]
) -> tuple[dict[str, Any], list[TestSocket]]:
    room = await live_room(cluster.http(nodes[0]))
    sockets: list[TestSocket] = []
    for index in range(SOCKETS_PER_NODE * len(nodes)):
        holder = nodes[index % len(nodes)]
        socket = await cluster.socket(holder)
        # joined through the other node, as a load balancer would
        await join(cluster.http(nodes[(index + 1) % len(nodes)]), socket, room, f"V{index}")
        sockets.append(socket)
    return room, sockets


async def back_up(nodes: list[Node]) -> None:
    for node in nodes:
        assert isinstance(node.delivery, RedisDelivery)
        await asyncio.wait_for(node.delivery.ready(), 30)


@POSTGRES
async def test_a_redis_restart_mid_storm_loses_no_acknowledged_message(
    blip_cluster: Cluster, private_redis: RedisServer
) -> None:
    nodes = await blip_cluster.start(2)
    room, sockets = await room_with_sockets(blip_cluster, nodes)
    subscribers = [await subscriber(node, room["id"]) for node in nodes]
    try:
        steps: dict[int, Callable[[], Awaitable[None]]] = {
            40: private_redis.stop,
            80: private_redis.start,
        }
        acknowledged = await storm(blip_cluster, nodes, room, 160, steps)
        await back_up(nodes)
        await eventually(lambda: all(settled(s, acknowledged) for s in sockets), "every socket", 30)
        assert_exactly_once_or_1012(sockets, acknowledged)
        for _, seen in subscribers:
            await seen.until(has_all(acknowledged), timeout=30)
        assert any(n.delivery.health()["reconnects"] >= 1 for n in nodes)
    finally:
        for client, _ in subscribers:
            await client.aclose()


@POSTGRES
async def test_frames_beyond_the_buffer_close_the_remote_sockets_with_1012(
    blip_cluster: Cluster, private_redis: RedisServer
) -> None:
    """The publisher keeps 3 frames: the others are lost for the other node's sockets,
    which are closed so their clients catch up; its own sockets got everything."""
    a, b = await blip_cluster.start(2, redis_buffer_frames=3)
    room, sockets = await room_with_sockets(blip_cluster, [a, b])
    on_a, on_b = sockets[0::2], sockets[1::2]
    subscribers = [await subscriber(node, room["id"]) for node in (a, b)]
    try:
        steps: dict[int, Callable[[], Awaitable[None]]] = {
            1: private_redis.stop,
            11: private_redis.start,
        }
        acknowledged = await storm(blip_cluster, [b], room, 12, steps)
        await back_up([a, b])
        for socket in on_a:
            assert await socket.closed(timeout=30) == SERVICE_RESTART
        assert_exactly_once_or_1012(on_b, acknowledged)
        assert all(s.ws.close_code is None for s in on_b)
        for _, seen in subscribers:
            await seen.until(has_all(acknowledged), timeout=30)
        report = a.delivery.health()
        assert report["framesLost"] >= 1
        assert report["socketsClosedForGaps"] >= len(on_a)
        assert b.delivery.health()["droppedPublishes"] >= 1
    finally:
        for client, _ in subscribers:
            await client.aclose()


async def get(node: Node, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=node.http_url, timeout=10) as client:
        return await client.get(path)


def gauge(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


@POSTGRES
async def test_health_stays_200_and_says_degraded_while_redis_is_away(
    blip_cluster: Cluster, private_redis: RedisServer
) -> None:
    a, b = await blip_cluster.start(2)
    room, _ = await room_with_sockets(blip_cluster, [a, b])
    assert (await get(a, "/health")).json()["status"] == "ok"
    assert gauge((await get(a, "/metrics")).text, "steeple_redis_up") == 1
    await private_redis.stop()
    await eventually(lambda: not a.delivery.health()["ok"], "a sees redis down")
    await send(blip_cluster.http(a), room, "kept for later")
    health = await get(a, "/health")
    assert health.status_code == 200
    body = health.json()
    assert (body["ok"], body["status"], body["redis"]) == (True, "degraded", "down")
    assert body["delivery"]["buffered"] >= 1
    metrics = (await get(a, "/metrics")).text
    assert gauge(metrics, "steeple_redis_up") == 0
    assert gauge(metrics, "steeple_redis_buffered_frames") >= 1
    await private_redis.start()
    await back_up([a, b])
    await eventually(lambda: a.delivery.health()["buffered"] == 0, "the buffer flushed")
    body = (await get(a, "/health")).json()
    assert (body["status"], body["redis"]) == ("ok", "up")
