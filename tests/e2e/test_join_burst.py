"""A burst of joins to one room costs far fewer attendance and blockedIp frames than joins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.node import Node
from tests.support.nodes import NO_RATE_LIMITS, node_settings
from tests.support.rawsocket import RawSocket
from tests.support.steps import entry, live_room
from tests.support.wsclient import TestSocket

JOINS = 200
WORKERS = 8


@pytest.fixture
async def default_node(sqlite_url: str) -> AsyncIterator[Node]:
    """A node with the production attendance interval."""
    # 200 joins from one address within a moment are what this test is about, so the
    # join limits are off.
    running = Node(node_settings(sqlite_url, attendance_interval=0.25, **NO_RATE_LIMITS))
    await running.start()
    yield running
    await running.stop()


async def test_burst_of_joins_is_coalesced(default_node: Node) -> None:
    async with httpx.AsyncClient(base_url=default_node.http_url + "/messaging", timeout=30) as http:
        room = await live_room(http)
        first = await TestSocket.connect(default_node.socket_url)
        # The other viewers never read: the server must not care, and the test stays cheap.
        others = await asyncio.gather(
            *(RawSocket.connect(default_node.socket_url) for _ in range(JOINS - 1))
        )
        try:
            await asyncio.gather(*(other.get_id() for other in others))
            joined = await http.post("/connections", json=[entry(first, room, "viewer 000")])
            assert joined.status_code == 200, joined.text
            await first.next("attendance")  # the early socket is in before the burst
            waiting: list[tuple[int, TestSocket | RawSocket]] = list(enumerate(others, 1))

            async def joiner() -> None:
                # A few concurrent clients, as browsers would be; httpx itself slows
                # down badly with hundreds of requests queued on one pool.
                while waiting:
                    index, socket = waiting.pop()
                    body = [entry(socket, room, f"viewer {index:03d}")]
                    response = await http.post("/connections", json=body)
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(joiner() for _ in range(WORKERS)))
            final = await first.next(
                "attendance", lambda f: f["data"]["totalViewers"] == JOINS, timeout=30
            )
            frames = len(first.pending("attendance")) + 1  # all it got during the burst
            assert len(final["data"]["viewers"]) == JOINS
            assert frames <= JOINS // 5, f"{frames} attendance frames for {JOINS} joins"
            # Each join owes the room its block list: that is coalesced too.
            blocked = await first.next("blockedIp")
            lists = len(first.pending("blockedIp")) + 1
            assert blocked["data"] == [] and lists <= JOINS // 5, f"{lists} blockedIp frames"
        finally:
            for other in others:
                other.abort()
            await first.close()
