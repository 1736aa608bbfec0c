"""The socket: idempotent connect, handlers by (action, id), probes, reconnects."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from steeple.client import RECONNECT, Frame, Socket, SocketIdTimeout
from steeple.node import Node
from steeple.protocol.frames import encode_frame
from tests.support.client_nodes import MakeClient, live_room
from tests.support.client_tools import FAST, Recorder


async def test_connect_is_idempotent_and_safe_to_call_concurrently(node: Node) -> None:
    async with Socket(node.socket_url, backoff=FAST) as socket:
        ids = await asyncio.gather(*(socket.connect() for _ in range(5)))
        assert len(set(ids)) == 1 and ids[0] == socket.socket_id
        assert await socket.connect() == ids[0]
        assert await socket.get_id() == ids[0]
        assert len(node.hub) == 1  # one WebSocket, not five
        assert await socket.probe()


async def test_frames_go_to_every_handler_of_their_action_by_id(clients: MakeClient) -> None:
    client = await clients(name="Ann")
    room = await live_room(client)
    first, replaced, second = Recorder[Frame](), Recorder[Frame](), Recorder[Frame]()
    client.socket.add_handler("message", "panel", first)
    client.socket.add_handler("message", "panel", replaced)  # same id: replaces
    client.socket.add_handler("message", "badge", second)
    await client.subscriptions.join("CH1", room)
    await client.rest.send_message("CH1", room, "one", "Ann")
    await second.count_at_least(1)
    client.socket.remove_handler("message", "badge")
    await client.rest.send_message("CH1", room, "two", "Ann")
    await replaced.count_at_least(2)
    assert first.items == []
    assert [f.data["content"] for f in replaced.items] == ["one", "two"]
    assert [f.data["content"] for f in second.items] == ["one"]
    assert replaced.items[0].room == ("CH1", room)


class FakePeer:
    """A WebSocket peer that answers ``getId`` like Steeple, except on muted connections."""

    def __init__(self) -> None:
        self.muted: set[str] = set()
        self.mute_all = False
        self.numbers = itertools.count(1)
        self.server: Server | None = None

    async def handle(self, ws: ServerConnection) -> None:
        socket_id = f"fake-socket{next(self.numbers)}"
        async for _ in ws:
            if not self.mute_all and socket_id not in self.muted:
                await ws.send(encode_frame("", "", "socketId", socket_id).decode())

    @property
    def url(self) -> str:
        assert self.server is not None
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = FakePeer()
    async with serve(fake.handle, "127.0.0.1", 0) as server:
        fake.server = server
        yield fake


async def test_a_socket_that_fails_a_probe_is_replaced(peer: FakePeer) -> None:
    async with Socket(peer.url, backoff=FAST, probe_timeout=0.2) as socket:
        assert socket.socket_id == "fake-socket1"
        new_ids, reconnects = Recorder[str](), Recorder[Frame]()
        socket.on_socket_id(new_ids)
        socket.add_handler(RECONNECT, "test", reconnects)
        peer.muted.add("fake-socket1")
        assert not await socket.probe()
        assert (await reconnects.until(lambda f: True)).data == "fake-socket2"
        assert new_ids.items == ["fake-socket2"] and socket.socket_id == "fake-socket2"
        assert await socket.probe()


async def test_a_quiet_socket_is_probed_and_replaced_on_its_own(peer: FakePeer) -> None:
    async with Socket(peer.url, backoff=FAST, quiet_after=0.1, probe_timeout=0.1) as socket:
        reconnects = Recorder[Frame]()
        socket.add_handler(RECONNECT, "test", reconnects)
        peer.muted.add("fake-socket1")  # silent from now on, probes included
        assert (await reconnects.until(lambda f: True)).data == "fake-socket2"


async def test_no_socket_id_within_the_wait_is_an_error(peer: FakePeer) -> None:
    peer.mute_all = True
    socket = Socket(peer.url, backoff=FAST, id_timeout=0.2)
    with pytest.raises(SocketIdTimeout):
        async with socket:
            pass
    assert socket.socket_id is None


async def test_server_pings_are_answered_so_the_heartbeat_keeps_the_socket(node: Node) -> None:
    async with Socket(node.socket_url, backoff=FAST) as socket:
        socket_id = await socket.connect()
        for _ in range(3):
            # Ping everyone, then a getId round trip: the pong was sent before the
            # getId, so the server has seen it by the time the answer comes back.
            assert node.hub.heartbeat() == 0
            assert await socket.probe()
        assert node.hub.get(socket_id) is not None and socket.socket_id == socket_id
