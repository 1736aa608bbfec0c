"""A re-join that fails is retried: a socket replaced while the HTTP side refuses
connections still gets its rooms back, and every message after that arrives live.

The client reaches the node's HTTP port through a TCP relay the test can switch to
refusing (it accepts and drops each connection), while the socket port stays open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.client import Client, Frame
from steeple.hub import SLOW_CONSUMER
from steeple.node import Node
from tests.support.client_tools import FAST, Recorder, eventually
from tests.support.relay import Relay


@pytest.fixture
async def relay(node: Node) -> AsyncIterator[tuple[Relay, int]]:
    """A relay to the node's HTTP port, and the port it listens on."""
    relay = Relay("127.0.0.1", node.http_port)
    port = await relay.start()
    yield relay, port
    await relay.stop()


async def send(http: httpx.AsyncClient, room: str, text: str) -> None:
    entry = {"churchId": "CH1", "conversationId": room, "content": text, "displayName": "Bob"}
    answer = await http.post("/messages/send", json=[entry])
    assert answer.status_code == 200, answer.text


def drop(node: Node, socket_id: str, how: str) -> None:
    """End the client's socket from the server side: a slow-consumer close or a cut."""
    socket = node.hub.get(socket_id)
    assert socket is not None
    if how == "4008":
        socket.close(SLOW_CONSUMER, "slow consumer")
    else:  # 1006: the transport vanishes without a close frame, as after a stall
        transport = getattr(socket, "_transport", None)
        assert transport is not None
        transport.abort()


@pytest.mark.parametrize("how", ["4008", "1006"])
async def test_a_refused_rejoin_is_retried_and_the_next_messages_arrive(
    node: Node, relay: tuple[Relay, int], http: httpx.AsyncClient, how: str
) -> None:
    cutter, port = relay
    async with Client(f"http://127.0.0.1:{port}", node.socket_url, backoff=FAST) as ann:
        room = str((await ann.rest.current_conversation("CH1", "streamingLive", "svc1"))["id"])
        live = Recorder[Frame]()
        ann.socket.add_handler("message", "test", live)
        await ann.subscriptions.join("CH1", room)
        first = ann.socket.socket_id
        assert first is not None

        cutter.cut()  # the HTTP side refuses every connection from now on...
        drop(node, first, how)  # ...and the socket is replaced meanwhile
        await eventually(lambda: cutter.refused >= 2, "the re-join refused twice")
        second = ann.socket.socket_id
        assert second is not None and second != first
        cutter.restore()

        assert await ann.subscriptions.joined("CH1", room, timeout=10) == second
        texts = [f"after {i}" for i in range(10)]
        for text in texts:
            await send(http, room, text)
        await live.count_at_least(10)
        assert [f.data["content"] for f in live.items] == texts
        assert ann.socket.socket_id == second  # retried on the same socket, not replaced
