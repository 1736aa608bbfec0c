"""A flood that ignores its 429s is held off at the listener (web/flood_hold.py).

The flood is a raw keep-alive connection from 127.0.0.2 pipelining requests, as a
script would; the rest of the congregation is on 127.0.0.3. Buckets run on a
:class:`~tests.support.clocks.DrivenClock`, so nothing refills while a test runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from steeple.node import Node
from steeple.settings import OFF, Rate
from tests.support.clocks import DrivenClock
from tests.support.nodes import node_settings

FLOOD, OTHER, PROXY = "127.0.0.2", "127.0.0.3", "127.0.0.4"
HELD = {"post_address": Rate(1, 2), "refused_address": Rate(1, 5), "flood_hold_seconds": 60}

Start = Callable[..., Awaitable[Node]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    nodes: list[Node] = []

    async def make(**overrides: Any) -> Node:
        settings = node_settings(f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}", **overrides)
        node = Node(settings, clock=DrivenClock())
        await node.start()
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.stop()


def client(node: Node, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=node.http_url + "/messaging",
        transport=httpx.AsyncHTTPTransport(local_address=address),
    )


async def live_room(node: Node) -> dict[str, Any]:
    async with client(node, OTHER) as http:
        response = await http.get("/conversations/current/CH1/streamingLive/svc1")
    assert response.status_code == 200, response.text
    return dict(response.json())


def post(node: Node, room: dict[str, Any], content: str, forwarded_for: str = "") -> bytes:
    body = orjson.dumps(
        [{"churchId": "CH1", "conversationId": room["id"], "content": content, "displayName": "V"}]
    )
    forwarded = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
    return (
        f"POST /messaging/messages/send HTTP/1.1\r\nHost: 127.0.0.1:{node.http_port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{forwarded}\r\n"
    ).encode() + body


def missing(node: Node) -> bytes:
    return f"GET /messaging/nothing HTTP/1.1\r\nHost: 127.0.0.1:{node.http_port}\r\n\r\n".encode()


async def pipeline(node: Node, source: str, requests: list[bytes]) -> Counter[int]:
    """Write every request at once on one connection; the statuses answered before the
    server closed it (``-1`` counts a close before the last answer)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", node.http_port, local_addr=(source, 0)
    )
    statuses: Counter[int] = Counter()
    writer.write(b"".join(requests))
    try:
        for _ in requests:
            head = await reader.readuntil(b"\r\n\r\n")
            statuses[int(head[9:12])] += 1
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
    except (ConnectionError, asyncio.IncompleteReadError):
        statuses[-1] += 1
    finally:
        writer.close()
    return statuses


async def connects(node: Node, source: str) -> bool:
    """Whether a connection from ``source`` is accepted within a second (a dropped SYN
    is retried only after the kernel's 1 s timer)."""
    try:
        opened = asyncio.open_connection("127.0.0.1", node.http_port, local_addr=(source, 0))
        _, writer = await asyncio.wait_for(opened, 1.0)
    except TimeoutError:
        return False
    writer.close()
    return True


async def released(node: Node, source: str) -> None:
    for _ in range(20):  # each try waits up to a second for the handshake
        if await connects(node, source):
            return
    pytest.fail(f"{source} was still held 20 s after its hold should have ended")


async def holds(node: Node) -> float:
    async with httpx.AsyncClient(base_url=node.http_url) as http:
        text = (await http.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("steeple_flood_holds_total "))
    return float(line.split()[1])


async def stored(node: Node, room: dict[str, Any]) -> list[str]:
    return [m["content"] for m in await node.store.messages.newest(room["id"], 1_000)]


async def test_an_address_that_keeps_posting_past_its_429s_is_held_at_the_listener(
    start: Start,
) -> None:
    node = await start(**HELD)
    room = await live_room(node)
    flood = [post(node, room, f"flood {n}") for n in range(30)]
    statuses = await pipeline(node, FLOOD, flood)
    # Two posts fit its bucket; past five (or six, at the bucket's edge) refusals the
    # address is held and its connection closed with the rest of the flood unread.
    assert statuses[200] == 2 and 5 <= statuses[429] <= 6 and statuses[-1] == 1
    assert not await connects(node, FLOOD)
    async with client(node, OTHER) as http:
        body = [{"churchId": "CH1", "conversationId": room["id"], "content": "still here"}]
        assert (await http.post("/messages/send", json=body)).status_code == 200
    assert await stored(node, room) == ["flood 0", "flood 1", "still here"]
    assert await holds(node) == 1


async def test_any_refusal_counts_so_a_404_flood_is_held_too(start: Start) -> None:
    node = await start(**HELD)
    statuses = await pipeline(node, FLOOD, [missing(node)] * 30)
    assert 5 <= statuses[404] <= 6 and statuses[-1] == 1
    assert not await connects(node, FLOOD)
    assert await connects(node, OTHER)


async def test_a_held_address_is_let_go_when_its_hold_ends(start: Start) -> None:
    node = await start(**{**HELD, "flood_hold_seconds": 0.2})
    statuses = await pipeline(node, FLOOD, [missing(node)] * 30)
    assert statuses[-1] == 1
    await released(node, FLOOD)
    assert (await pipeline(node, FLOOD, [missing(node)]))[404] == 1


async def test_an_address_that_floods_again_after_its_release_is_held_again(
    start: Start,
) -> None:
    node = await start(**{**HELD, "flood_hold_seconds": 0.2})
    assert (await pipeline(node, FLOOD, [missing(node)] * 30))[-1] == 1
    await released(node, FLOOD)
    # Its refusal bucket did not refill (the node's clock is driven): the first refusal
    # after the release holds it again.
    statuses = await pipeline(node, FLOOD, [missing(node)] * 30)
    assert statuses[-1] == 1 and statuses[404] <= 2
    assert await holds(node) == 2


async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(start: Start) -> None:
    """Only a trusted proxy may name the caller: a flood that invents a new
    X-Forwarded-For for each request is still one address, limited and held as one."""
    node = await start(**HELD)
    room = await live_room(node)
    flood = [post(node, room, f"flood {n}", forwarded_for=f"198.51.100.{n}") for n in range(30)]
    statuses = await pipeline(node, FLOOD, flood)
    assert statuses[200] == 2 and 5 <= statuses[429] <= 6 and statuses[-1] == 1
    assert not await connects(node, FLOOD)
    assert await stored(node, room) == ["flood 0", "flood 1"]


async def test_a_trusted_proxy_is_never_held_for_the_callers_behind_it(start: Start) -> None:
    node = await start(**HELD, trusted_proxies=(PROXY,))
    room = await live_room(node)
    flood = [post(node, room, f"flood {n}", forwarded_for="198.51.100.7") for n in range(30)]
    statuses = await pipeline(node, PROXY, flood)
    assert statuses == Counter({200: 2, 429: 28})  # each refused, none held
    assert await connects(node, PROXY)
    assert await holds(node) == 0


@pytest.mark.parametrize("off", [{"flood_hold_seconds": 0}, {"refused_address": OFF}])
async def test_either_setting_at_zero_turns_the_hold_off(start: Start, off: Any) -> None:
    node = await start(**{**HELD, **off})
    statuses = await pipeline(node, FLOOD, [missing(node)] * 30)
    assert statuses == Counter({404: 30})
    assert await connects(node, FLOOD)
