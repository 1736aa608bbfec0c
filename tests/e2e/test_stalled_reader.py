"""Slow consumers measured end to end: a socket that never reads, among many that do.

The budget (``socket_buffer_limit``) counts what the kernel holds too, and the
kernel's share is bounded (``socket_send_buffer``), so the stalled socket is cut
after about a budget's worth of frames, not after megabytes. Its 4008 close frame
goes out before the unsent backlog: once the stalled reader finally reads, it gets
at most the budget plus the kernel buffers, then the close frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from websockets.frames import Opcode

from steeple.hub import SLOW_CONSUMER
from steeple.node import Node
from tests.support.client_tools import eventually
from tests.support.nodes import node_settings
from tests.support.rawsocket import RawSocket
from tests.support.steps import entry, live_room, send

BUDGET = 256 * 1024
SEND_BUFFER = 64 * 1024
STALLED_RECEIVE_BUFFER = 8 * 1024
NORMAL = 200
MESSAGES = 2_000
BODY = "x" * 2_000


@pytest.fixture
async def tight_node(sqlite_url: str) -> AsyncIterator[Node]:
    settings = node_settings(
        sqlite_url, socket_buffer_limit=BUDGET, socket_send_buffer=SEND_BUFFER, ping_interval=60
    )
    running = Node(settings)
    await running.start()
    yield running
    await running.stop()


async def messages_read(socket: RawSocket, expected: int) -> int:
    """Read ``message`` frames until ``expected`` arrived or the socket closed."""
    count = 0
    while count < expected:
        frame = await socket.next_frame()
        if frame is None or frame.opcode is Opcode.CLOSE:
            break
        if frame.opcode is Opcode.TEXT and orjson.loads(frame.data)["action"] == "message":
            count += 1
    return count


async def join_all(http: httpx.AsyncClient, sockets: list[RawSocket], room: Any) -> None:
    for start in range(0, len(sockets), 50):
        batch = [entry(s, room, f"r{start + i}") for i, s in enumerate(sockets[start : start + 50])]
        answer = await http.post("/connections", json=batch)
        assert answer.status_code == 200, answer.text


async def test_a_stalled_reader_is_cut_within_budget_and_told_4008_first(
    tight_node: Node,
) -> None:
    url = tight_node.socket_url
    async with httpx.AsyncClient(base_url=tight_node.http_url + "/messaging", timeout=30) as http:
        room = await live_room(http)
        normal = [await RawSocket.connect(url) for _ in range(NORMAL)]
        for socket in normal:
            await socket.get_id()
        stalled = await RawSocket.connect(url, receive_buffer=STALLED_RECEIVE_BUFFER)
        await stalled.get_id()
        await join_all(http, [*normal, stalled], room)
        assert tight_node.hub.get(stalled.socket_id) is not None
        stalled.received = 0

        readers = [asyncio.create_task(messages_read(s, MESSAGES)) for s in normal]

        async def post_all() -> None:
            for index in range(MESSAGES):
                await send(http, room, BODY, name=f"n{index}")

        posting = asyncio.create_task(post_all())
        try:
            await eventually(
                lambda: tight_node.hub.get(stalled.socket_id) is None or posting.done(),
                "the stalled socket to be cut",
                timeout=50,
            )
            assert tight_node.hub.get(stalled.socket_id) is None, "never cut"
            assert not posting.done(), "cut only after every message was posted"
            # Now the stalled reader reads, before the server's abort grace runs out.
            code, frames = await asyncio.wait_for(stalled.close_code(), 30)
            await posting
            counts = await asyncio.wait_for(asyncio.gather(*readers), 30)
        finally:
            for task in [posting, *readers]:
                task.cancel()
            for socket in [*normal, stalled]:
                socket.abort()
        assert code == SLOW_CONSUMER
        # What reached it: the kernel buffers of both ends, the budget, the close frame;
        # a close queued behind the backlog would have come after every message.
        assert stalled.received <= BUDGET + 2 * SEND_BUFFER * 2 + 4 * STALLED_RECEIVE_BUFFER
        assert len(frames) < MESSAGES // 2
        assert counts == [MESSAGES] * NORMAL
