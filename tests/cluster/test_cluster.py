"""Several nodes over Redis and one shared database, end to end through real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from steeple.delivery.redis import RedisDelivery
from steeple.node import Node
from tests.support.cluster import SHARED_DATABASES, Cluster, forget_prefix
from tests.support.processes import RedisServer, ServedNode
from tests.support.relay import Relay
from tests.support.services import REDIS_URL
from tests.support.steps import join, live_room, send
from tests.support.wsclient import TestSocket

Predicate = Callable[[dict[str, Any]], bool]


def content_is(text: str) -> Predicate:
    return lambda f: f["data"]["content"] == text


def viewers(total: int) -> Predicate:
    return lambda f: f["data"]["totalViewers"] == total


async def receive_once(socket: TestSocket, texts: list[str], marker: str) -> None:
    """Each of ``texts`` arrives, then ``marker``, and nothing more."""
    for text in texts:
        await socket.next("message", content_is(text))
    await socket.next("message", content_is(marker))
    assert socket.pending("message") == []


async def rows_in(http: httpx.AsyncClient, room: dict[str, Any]) -> list[dict[str, Any]]:
    response = await http.get(f"/connections/{room['churchId']}/{room['id']}")
    assert response.status_code == 200, response.text
    return list(response.json())


@SHARED_DATABASES
async def test_message_posted_on_one_node_reaches_a_socket_on_another(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    room = await live_room(cluster.http(a))
    ann = await cluster.socket(a)
    await join(cluster.http(a), ann, room, "Ann")
    await send(cluster.http(b), room, "from b")
    await send(cluster.http(b), room, "marker")
    await receive_once(ann, ["from b"], "marker")


@SHARED_DATABASES
async def test_room_split_over_three_nodes_gets_each_message_once_per_socket(
    cluster: Cluster,
) -> None:
    nodes = await cluster.start(3)
    room = await live_room(cluster.http(nodes[0]))
    members = [(index, await cluster.socket(node)) for index, node in enumerate(nodes * 2)]
    for index, socket in members:  # the load balancer sent each join to another node
        await join(cluster.http(nodes[(index + 1) % 3]), socket, room, f"Viewer {index}")
    texts = [f"from node {index}" for index in range(3)]
    for node, text in zip(nodes, texts, strict=True):
        await send(cluster.http(node), room, text)
    await send(cluster.http(nodes[0]), room, "marker")
    for _, socket in members:
        await receive_once(socket, texts, "marker")
        await socket.next("attendance", viewers(6))
    assert len(await rows_in(cluster.http(nodes[2]), room)) == 6


@SHARED_DATABASES
async def test_leave_through_another_node_stops_delivery(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    room = await live_room(cluster.http(a))
    lobby = await live_room(cluster.http(a), service="lobby")
    ann, bob = await cluster.socket(a), await cluster.socket(a)
    for socket in (ann, bob):
        await join(cluster.http(b), socket, room)
    await join(cluster.http(b), ann, lobby)
    response = await cluster.http(b).delete(
        f"/connections/{room['churchId']}/{room['id']}/{ann.socket_id}"
    )
    assert response.status_code == 200, response.text
    await send(cluster.http(b), room, "after ann left")
    await bob.next("message", content_is("after ann left"))
    await send(cluster.http(a), lobby, "marker")  # a handed out bob's copy before this
    await ann.next("message", content_is("marker"))
    assert [f for f in ann.pending("message") if content_is("after ann left")(f)] == []


@SHARED_DATABASES
async def test_a_node_does_no_work_for_a_room_it_has_no_member_of(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    watched = await live_room(cluster.http(a), service="watched")
    ignored = await live_room(cluster.http(a), service="ignored")
    ann, bob = await cluster.socket(a), await cluster.socket(b)
    await join(cluster.http(a), ann, watched)
    await join(cluster.http(b), bob, ignored)
    before = a.delivery.health()["framesReceived"]
    for number in range(20):
        await send(cluster.http(b), ignored, f"noise {number}")
    await send(cluster.http(b), watched, "marker")
    await ann.next("message", content_is("marker"))
    await bob.next("message", content_is("noise 19"))
    assert a.delivery.health()["framesReceived"] == before + 1
    assert a.delivery.health()["rooms"] == 1


async def row_names(http: httpx.AsyncClient, room: dict[str, Any]) -> list[str]:
    return sorted(row["displayName"] for row in await rows_in(http, room))


@SHARED_DATABASES
async def test_a_killed_node_is_cleared_up_by_the_survivors(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    victim = await ServedNode.start(cluster.environment())
    try:
        room = await live_room(cluster.http(a))
        ann, bob = await cluster.socket(a), await cluster.socket(b)
        vic = await TestSocket.connect(victim.socket_url)
        for socket, name in ((ann, "Ann"), (bob, "Bob"), (vic, "Vic")):
            await join(cluster.http(a), socket, room, name)
        await ann.next("attendance", viewers(3))
        victim.child.kill()
        # Attendance frames of two nodes may cross (presence.py), so a count of 2 can
        # arrive before the survivors reap; the rows are the durable answer.
        deadline = time.monotonic() + 30
        while (names := await row_names(cluster.http(b), room)) != ["Ann", "Bob"]:
            assert time.monotonic() < deadline, names
            await asyncio.sleep(0.1)
        attendance = await ann.next("attendance", viewers(2), timeout=30)
        names = [viewer["displayName"] for viewer in attendance["data"]["viewers"]]
        assert names == ["Ann", "Bob"]
        await send(cluster.http(b), room, "after the crash")
        await send(cluster.http(a), room, "marker")
        for socket in (ann, bob):
            await receive_once(socket, ["after the crash"], "marker")
        await vic.close()
    finally:
        await victim.child.stop()


@SHARED_DATABASES
async def test_a_starting_node_keeps_the_rows_of_live_nodes(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    room = await live_room(cluster.http(a))
    ann, bob = await cluster.socket(a), await cluster.socket(b)
    await join(cluster.http(a), ann, room, "Ann")
    await join(cluster.http(a), bob, room, "Bob")
    (late,) = await cluster.start(1)  # its start-up sweep has run
    assert await late.services.connections.sweep_stale() == 0
    assert len(await rows_in(cluster.http(late), room)) == 2


async def health(node: Node) -> httpx.Response:
    async with httpx.AsyncClient(base_url=node.http_url, timeout=10) as client:
        return await client.get("/health")


async def wait_until_degraded(node: Node) -> dict[str, Any]:
    """What a load balancer does: poll /health until it reports the Redis outage, which
    must not take the node out of service (200: it still serves its own sockets)."""
    for _ in range(500):
        response = await health(node)
        assert response.status_code == 200, response.text
        if response.json()["status"] == "degraded":
            return dict(response.json())
    raise AssertionError("the node never reported redis as down")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_delivery_resumes_after_redis_restarts(
    database_url: str, prefix: str, private_redis: RedisServer
) -> None:
    cluster = Cluster(database_url, prefix, private_redis.url)
    try:
        a, b = await cluster.start(2)
        room = await live_room(cluster.http(a))
        ann, bob = await cluster.socket(a), await cluster.socket(b)
        await join(cluster.http(a), ann, room, "Ann")
        await join(cluster.http(b), bob, room, "Bob")
        await private_redis.stop()
        report = await wait_until_degraded(a)
        assert report["redis"] == report["delivery"]["redis"] == "down"
        await send(cluster.http(a), room, "during the outage")  # a's own sockets still served
        await ann.next("message", content_is("during the outage"))
        await private_redis.start()
        for node in (a, b):
            assert isinstance(node.delivery, RedisDelivery)
            await node.delivery.ready()
            assert (await health(node)).status_code == 200
        await send(cluster.http(b), room, "after the restart")
        await send(cluster.http(a), room, "marker")
        await receive_once(ann, ["after the restart"], "marker")
        await bob.next("message", content_is("after the restart"))
        assert a.delivery.health()["reconnects"] >= 1
    finally:
        await cluster.close()
        await forget_prefix(private_redis.url, prefix)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_node_cut_off_too_long_closes_its_sockets_when_it_returns(cluster: Cluster) -> None:
    redis = urlsplit(REDIS_URL)
    relay = Relay(redis.hostname or "127.0.0.1", redis.port or 6379)
    port = await relay.start()
    try:
        (cut_off,) = await cluster.start(1, redis_url=f"redis://127.0.0.1:{port}{redis.path}")
        (survivor,) = await cluster.start(1)
        room = await live_room(cluster.http(survivor))
        ann, bob = await cluster.socket(cut_off), await cluster.socket(survivor)
        await join(cluster.http(survivor), ann, room, "Ann")
        await join(cluster.http(survivor), bob, room, "Bob")
        await bob.next("attendance", viewers(2))
        relay.cut()
        await bob.next("attendance", viewers(1), timeout=30)  # declared dead, rows removed
        relay.restore()
        assert await ann.closed(timeout=30) == 1012  # so that ann's client rejoins afresh
        assert isinstance(cut_off.delivery, RedisDelivery)
        await cut_off.delivery.ready()
        again = await cluster.socket(cut_off)
        await join(cluster.http(survivor), again, room, "Ann")
        await bob.next("attendance", viewers(2))
    finally:
        await relay.stop()


async def test_a_history_page_read_on_one_node_shows_what_another_node_stored(
    cluster: Cluster,
) -> None:
    """Only a database's one writer keeps newest pages: here every node writes."""
    a, b = await cluster.start(2)
    room = await live_room(cluster.http(a))
    url = f"/messages/catchup/{room['churchId']}/{room['id']}"
    await send(cluster.http(b), room, "before")
    assert [m["content"] for m in (await cluster.http(a).get(url)).json()] == ["before"]
    await send(cluster.http(b), room, "after")
    assert [m["content"] for m in (await cluster.http(a).get(url)).json()] == ["before", "after"]
