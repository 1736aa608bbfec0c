"""The socket edge: getId, heartbeat termination, the slow-consumer policy, single-port mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from websockets.frames import Opcode

from steeple.hub import GOING_AWAY, SLOW_CONSUMER
from steeple.node import Node
from tests.support.nodes import node_settings
from tests.support.rawsocket import RawSocket
from tests.support.steps import join, live_room, send, shows
from tests.support.wsclient import TestSocket


async def test_every_inbound_frame_gets_the_same_socket_id(sockets: Any) -> None:
    socket = await sockets()
    other = await sockets()
    assert len(socket.socket_id) == 11 and socket.socket_id != other.socket_id
    for text in ("getId", "hello", '{"action":"getId"}', ""):
        await socket.ws.send(text)
    await socket.ws.send(b"\x00binary")
    for _ in range(5):
        frame = await socket.next("socketId")
        assert frame == {
            "churchId": "",
            "conversationId": "",
            "action": "socketId",
            "data": socket.socket_id,
        }


async def test_nothing_is_sent_on_connect(node: Node) -> None:
    raw = await RawSocket.connect(node.socket_url)
    raw.send_text("first words")
    frame = await raw.next_frame()
    assert frame is not None and frame.opcode is Opcode.TEXT
    assert orjson.loads(frame.data)["action"] == "socketId"  # the first thing it ever sent
    raw.abort()


@pytest.fixture
async def quick_node(sqlite_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Node]:
    overrides = getattr(request, "param", {})
    running = Node(node_settings(sqlite_url, **overrides))
    await running.start()
    yield running
    await running.stop()


@pytest.mark.parametrize(
    "quick_node",
    [{"ping_interval": 0.2}, {"ping_interval": 0.2, "self_hosted": True}],
    indirect=True,
    ids=["socket-port", "single-port"],
)
async def test_heartbeat_terminates_a_socket_that_never_pongs(quick_node: Node) -> None:
    async with httpx.AsyncClient(base_url=quick_node.http_url + "/messaging") as http:
        room = await live_room(http)
        alive = await TestSocket.connect(quick_node.socket_url)  # websockets answers pings
        silent = await RawSocket.connect(quick_node.socket_url)
        await silent.get_id()
        await join(http, alive, room, "Alive")
        await join(http, silent, room, "Silent")
        await alive.next("attendance", shows("Alive", "Silent"))
        code, before = await silent.close_code()
        silent.abort()
        # uvicorn (single-port) fails a missed keepalive with 1011; the edge says 1001.
        assert code == (1011 if quick_node.settings.self_hosted else GOING_AWAY)
        assert any(f.opcode is Opcode.PING for f in before)
        frame = await alive.next("attendance", shows("Alive"))
        assert frame["data"]["totalViewers"] == 1
        await alive.ws.send("getId")  # survived several intervals
        assert (await alive.next("socketId"))["data"] == alive.socket_id
        await alive.close()


@pytest.mark.parametrize("quick_node", [{"ping_interval": 0.2}], indirect=True)
async def test_a_socket_reading_a_long_backlog_is_not_taken_for_dead(quick_node: Node) -> None:
    """Pings wait behind the backlog for intervals on end: while it reads, it is alive."""
    async with httpx.AsyncClient(base_url=quick_node.http_url + "/messaging") as http:
        room = await live_room(http)
        slow = await RawSocket.connect(quick_node.socket_url, receive_buffer=4096)
        try:
            await slow.get_id()
            await join(http, slow, room, "Slow")
            await read_a_backlog_slowly(http, room, slow)
        finally:
            slow.abort()


@pytest.mark.parametrize("quick_node", [{"ping_interval": 0.2}], indirect=True)
async def test_a_socket_reading_a_burst_from_its_own_buffer_is_not_taken_for_dead(
    quick_node: Node,
) -> None:
    """A crowd's reader: its kernel takes the whole burst and the pings behind it at once
    (nothing waits here to watch it read), and its application needs five intervals to
    read its way to them."""
    async with httpx.AsyncClient(base_url=quick_node.http_url + "/messaging") as http:
        room = await live_room(http)
        behind = await RawSocket.connect(quick_node.socket_url, receive_buffer=4 * 1024 * 1024)
        try:
            await behind.get_id()
            await join(http, behind, room, "Behind")
            await read_a_backlog_slowly(http, room, behind, pace=0.05)
        finally:
            behind.abort()


async def read_a_backlog_slowly(
    http: httpx.AsyncClient, room: str, slow: RawSocket, pace: float = 0.03
) -> None:
    chunk = "x" * 30_000  # 20 of them: 600 KB, within the 1 MiB budget
    names: list[str] = []
    pings = 0

    async def read(until: str) -> None:
        nonlocal pings
        while until not in names or not pings:  # and, at the end, a ping answered
            frame = await slow.next_frame()
            assert frame is not None and frame.opcode is not Opcode.CLOSE, (names, pings)
            if frame.opcode is Opcode.PING:
                pings += 1
                slow.send_pong(frame.data)
            elif (message := orjson.loads(frame.data))["action"] == "message":
                data = message["data"]
                names.append(data["displayName"] if data["content"] == chunk else data["content"])
                await asyncio.sleep(pace)  # the reader's pace: 20 chunks over 3 intervals or more

    reading = asyncio.create_task(read("the last one"))  # it reads while the posts go out
    for index in range(20):
        await send(http, room, chunk, name=f"n{index}")
    await send(http, room, "the last one")
    await reading
    assert names == [f"n{index}" for index in range(20)] + ["the last one"]
    await send(http, room, "still here")
    await read("still here")


SLOW = {"socket_buffer_limit": 64 * 1024}


@pytest.mark.parametrize("quick_node", [SLOW], indirect=True)
async def test_a_socket_that_never_reads_is_closed_and_the_room_goes_on(
    quick_node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(base_url=quick_node.http_url + "/messaging") as http:
        room = await live_room(http)
        reader = await TestSocket.connect(quick_node.socket_url)
        stuck = await RawSocket.connect(quick_node.socket_url, receive_buffer=4096)
        await stuck.get_id()
        await join(http, reader, room, "Reader")
        await join(http, stuck, room, "Stuck")
        chunk = "x" * 30_000
        caplog.set_level(logging.WARNING, logger="steeple.socket_policy")
        posted = 0
        while "cannot keep up" not in caplog.text:
            assert posted < 2_000, "the stuck socket was never closed"
            await send(http, room, chunk, name=f"n{posted}")
            posted += 1
        for extra in range(3):
            await send(http, room, chunk, name=f"n{posted + extra}")
        posted += 3
        await send(http, room, "after the close")
        for index in range(posted):
            frame = await reader.next("message")
            assert frame["data"]["displayName"] == f"n{index}"
        await reader.next("message", lambda f: f["data"]["content"] == "after the close")
        code, _ = await stuck.close_code()
        stuck.abort()
        assert code == SLOW_CONSUMER
        # Frames after the close are dropped, not buffered (and not warned about again).
        assert caplog.text.count("cannot keep up") == 1
        await reader.next("attendance", shows("Reader"))
        await reader.close()


@pytest.mark.parametrize("quick_node", [{"self_hosted": True}], indirect=True)
async def test_single_port_mode_serves_sockets_on_the_http_port(quick_node: Node) -> None:
    assert quick_node.socket_port == quick_node.http_port
    async with httpx.AsyncClient(base_url=quick_node.http_url + "/messaging") as http:
        room = await live_room(http)
        ann = await TestSocket.connect(quick_node.socket_url)
        bob = await TestSocket.connect(quick_node.socket_url + "/any/path")
        await ann.ws.send("again")
        assert (await ann.next("socketId"))["data"] == ann.socket_id
        await join(http, ann, room, "Ann")
        await join(http, bob, room, "Bob")
        for text in ("hello", "marker"):
            await send(http, room, text)
        for socket in (ann, bob):
            first = await socket.next("message")
            await socket.next("message", lambda f: f["data"]["content"] == "marker")
            assert first["data"]["content"] == "hello"
            assert socket.pending("message") == []
        await bob.close()
        await ann.next("attendance", shows("Ann"))
        await ann.close()


async def test_health(node: Node) -> None:
    async with httpx.AsyncClient(base_url=node.http_url) as client:
        response = await client.get("/health")
        assert response.status_code == 200
        assert response.json()["ok"] is True and response.json()["database"] is True
        assert (await client.get("/HEALTH")).status_code == 200


@pytest.mark.parametrize("self_hosted", [False, True], ids=["socket-port", "single-port"])
async def test_stopping_a_node_closes_its_sockets_with_1001(
    sqlite_url: str, self_hosted: bool
) -> None:
    running = Node(node_settings(sqlite_url, self_hosted=self_hosted))
    await running.start()
    socket = await TestSocket.connect(running.socket_url)
    await running.stop()
    assert await socket.closed() == GOING_AWAY
