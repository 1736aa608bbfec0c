"""Slow consumers measured end to end: sockets that never read, among many that do.

The budget (``socket_buffer_limit``) counts what the kernel holds too, and the
kernel's share is bounded (``socket_send_buffer``), so a stalled socket is cut
after about a budget's worth of frames, not after megabytes. Its 4008 close frame
goes out before the unsent backlog: once the stalled reader finally reads, it gets
at most the budget plus the kernel buffers, then the close frame. On the socket port
and in single-port mode (where uvicorn's transport is measured the same way).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from websockets.frames import Opcode

from steeple.hub import SLOW_CONSUMER
from steeple.node import Node
from tests.support.client_tools import eventually
from tests.support.nodes import NO_RATE_LIMITS, node_settings
from tests.support.rawsocket import RawSocket
from tests.support.steps import entry, live_room, send

BUDGET = 256 * 1024
SEND_BUFFER = 64 * 1024
STALLED_RECEIVE_BUFFER = 8 * 1024
BODY = "x" * 2_000


@dataclass(frozen=True)
class Crowd:
    self_hosted: bool
    normal: int
    stalled: int
    messages: int


# Single-port mode is slower per frame (one ASGI send each), so its crowd is smaller;
# a stalled socket is cut after about 140 messages of 2 KB either way.
CROWDS = [Crowd(False, 200, 1, 2_000), Crowd(True, 100, 5, 800)]


@pytest.fixture(params=CROWDS, ids=["socket-port", "single-port"])
def crowd(request: pytest.FixtureRequest) -> Crowd:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def tight_node(sqlite_url: str, crowd: Crowd) -> AsyncIterator[Node]:
    # Hundreds of viewers join from one address in batches of 50, then a flood of posts:
    # the load is the point here, not the rate limits.
    settings = node_settings(
        sqlite_url,
        socket_buffer_limit=BUDGET,
        socket_send_buffer=SEND_BUFFER,
        ping_interval=60,
        self_hosted=crowd.self_hosted,
        anonymous_join_batch=50,
        **NO_RATE_LIMITS,
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


async def test_stalled_readers_are_cut_within_budget_and_told_4008_first(
    tight_node: Node, crowd: Crowd
) -> None:
    url = tight_node.socket_url
    async with httpx.AsyncClient(base_url=tight_node.http_url + "/messaging", timeout=30) as http:
        room = await live_room(http)
        normal = [await RawSocket.connect(url) for _ in range(crowd.normal)]
        for socket in normal:
            await socket.get_id()
        stalled = [
            await RawSocket.connect(url, receive_buffer=STALLED_RECEIVE_BUFFER)
            for _ in range(crowd.stalled)
        ]
        for socket in stalled:
            await socket.get_id()
        await join_all(http, [*normal, *stalled], room)
        assert all(tight_node.hub.get(s.socket_id) is not None for s in stalled)
        for socket in stalled:
            socket.received = 0

        readers = [asyncio.create_task(messages_read(s, crowd.messages)) for s in normal]

        async def post_all() -> None:
            for index in range(crowd.messages):
                await send(http, room, BODY, name=f"n{index}")

        def all_cut() -> bool:
            return all(tight_node.hub.get(s.socket_id) is None for s in stalled)

        posting = asyncio.create_task(post_all())
        try:
            await eventually(
                lambda: all_cut() or posting.done(), "the stalled sockets to be cut", timeout=50
            )
            assert all_cut(), "never cut"
            assert not posting.done(), "cut only after every message was posted"
            # Now the stalled readers read, before the server's abort grace runs out.
            closes = await asyncio.wait_for(asyncio.gather(*(s.close_code() for s in stalled)), 30)
            await posting
            counts = await asyncio.wait_for(asyncio.gather(*readers), 30)
        finally:
            for task in [posting, *readers]:
                task.cancel()
            for socket in [*normal, *stalled]:
                socket.abort()
        for socket, (code, frames) in zip(stalled, closes, strict=True):
            assert code == SLOW_CONSUMER
            # What reached it: the kernel buffers of both ends, the budget, the close
            # frame; a close queued behind the backlog would have come after every message.
            assert socket.received <= BUDGET + 2 * SEND_BUFFER * 2 + 4 * STALLED_RECEIVE_BUFFER
            assert len(frames) < crowd.messages // 2
        assert counts == [crowd.messages] * crowd.normal
