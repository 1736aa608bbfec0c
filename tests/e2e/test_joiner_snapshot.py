"""A joiner's own attendance arrives at once, to it alone; the room's broadcast stays paced.

The nodes here pace the room's attendance an hour apart, so any attendance frame a
socket receives before :meth:`Attendance.drain` is a joiner's own snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from steeple.node import Node
from tests.support.metrics import metrics
from tests.support.nodes import auth, node_settings
from tests.support.steps import entry, join, live_room, send, shows, viewers
from tests.support.wsclient import TestSocket

HOUR = 3600.0
BURST = 40
WORKERS = 8


@pytest.fixture
async def paced_node(sqlite_url: str) -> AsyncIterator[Node]:
    """A node whose rooms get their attendance broadcast at most once an hour."""
    running = Node(node_settings(sqlite_url, attendance_interval=HOUR))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def paced_http(paced_node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=paced_node.http_url + "/messaging", timeout=30) as client:
        yield client


async def connect(node: Node, count: int) -> list[TestSocket]:
    return list(await asyncio.gather(*(TestSocket.connect(node.socket_url) for _ in range(count))))


async def nothing_more(
    sockets: list[TestSocket], http: httpx.AsyncClient, room: dict[str, Any]
) -> None:
    """Every frame sent to ``sockets`` so far has arrived: a room message sent now
    arrives after them (frames reach a socket in order)."""
    marker = await send(http, room, "marker")
    for socket in sockets:
        await socket.next("message", lambda f: f["data"]["id"] == marker["id"])


async def join_in_a_burst(
    http: httpx.AsyncClient, room: dict[str, Any], joiners: list[TestSocket]
) -> float:
    """``joiners`` join ``room`` through :data:`WORKERS` concurrent callers; each gets
    exactly one attendance frame, which lists it. Returns the loop's time when the last
    of those frames had arrived."""
    waiting = list(enumerate(joiners))

    async def joiner() -> None:
        while waiting:
            index, socket = waiting.pop()
            await join(http, socket, room, f"viewer {index:03d}")

    await asyncio.gather(*(joiner() for _ in range(WORKERS)))
    for index, socket in enumerate(joiners):
        assert f"viewer {index:03d}" in viewers(await socket.next("attendance"))
    arrived = asyncio.get_running_loop().time()
    await nothing_more(joiners, http, room)
    assert sum(len(s.pending("attendance")) for s in joiners) == 0  # one frame per join
    return arrived


async def test_a_joiner_sees_itself_without_waiting_for_the_rooms_broadcast(
    paced_node: Node, paced_http: httpx.AsyncClient
) -> None:
    room = await live_room(paced_http)
    ann, bob = await connect(paced_node, 2)
    try:
        await join(paced_http, ann, room, "Ann")
        mine = await ann.next("attendance")
        assert (mine["churchId"], mine["conversationId"]) == ("CH1", room["id"])
        assert mine["data"]["conversationId"] == room["id"]
        assert viewers(mine) == ["Ann"] and mine["data"]["totalViewers"] == 1
        assert (await ann.next("blockedIp"))["data"] == []

        await join(paced_http, bob, room, "Bob")
        assert viewers(await bob.next("attendance")) == ["Ann", "Bob"]
        assert (await bob.next("blockedIp"))["data"] == []
        await nothing_more([ann, bob], paced_http, room)
        assert ann.pending("attendance") == [] and ann.pending("blockedIp") == []  # Bob's own

        await paced_node.ctx.attendance.drain()  # the room's broadcast, due in an hour: now
        for socket in (ann, bob):
            await socket.next("attendance", shows("Ann", "Bob"))
    finally:
        await ann.close()
        await bob.close()


async def test_the_other_members_still_get_the_rooms_paced_broadcast(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    ann, bob = await sockets(), await sockets()
    await join(http, ann, room, "Ann")
    await ann.next("attendance", shows("Ann"))
    await join(http, bob, room, "Bob")
    await ann.next("attendance", shows("Ann", "Bob"))  # Ann did not join: the room's frame


async def test_the_alerts_room_gets_no_snapshot(
    paced_node: Node, paced_http: httpx.AsyncClient
) -> None:
    room = await live_room(paced_http)
    (pat,) = await connect(paced_node, 1)
    try:
        body = [entry(pat, ("CH1", "alerts")), entry(pat, room, "Pat")]
        joined = await paced_http.post("/connections", json=body, headers=auth("CH1", "P1"))
        assert joined.status_code == 200, joined.text
        mine = await pat.next("attendance")
        assert mine["conversationId"] == room["id"] and viewers(mine) == ["Pat"]
        await pat.next("blockedIp")
        await nothing_more([pat], paced_http, room)
        assert pat.pending("attendance") == [] and pat.pending("blockedIp") == []
    finally:
        await pat.close()


async def test_a_burst_of_joins_costs_each_joiner_one_frame_until_the_rooms_broadcast(
    paced_node: Node, paced_http: httpx.AsyncClient
) -> None:
    room = await live_room(paced_http)
    joiners = await connect(paced_node, BURST)
    try:
        await join_in_a_burst(paced_http, room, joiners)

        await paced_node.ctx.attendance.drain()
        everyone = [f"viewer {index:03d}" for index in range(BURST)]
        for socket in joiners:
            await socket.next("attendance", shows(*everyone))
        await nothing_more(joiners, paced_http, room)
        frames = 2 * BURST + sum(len(s.pending("attendance")) for s in joiners)
        assert frames / BURST == 2, f"{frames} attendance frames for {BURST} joins"
    finally:
        for socket in joiners:
            await socket.close()


SPACING = 0.3


@pytest.fixture
async def spaced_node(sqlite_url: str) -> AsyncIterator[Node]:
    """A paced node whose joiner snapshots of one room are read at most every 0.3 s."""
    settings = node_settings(
        sqlite_url, attendance_interval=HOUR, attendance_snapshot_spacing=SPACING
    )
    running = Node(settings)
    await running.start()
    yield running
    await running.stop()


async def test_joiners_of_a_busy_room_share_reads_spaced_apart(spaced_node: Node) -> None:
    """A burst of joins: each joiner still gets one frame that lists it, but the room's
    snapshots are read at most once per spacing, each for every joiner waiting."""
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=spaced_node.http_url + "/messaging") as http:
        room = await live_room(http)
        joiners = await connect(spaced_node, BURST)
        try:
            started = loop.time()
            elapsed = await join_in_a_burst(http, room, joiners) - started
        finally:
            for socket in joiners:
                await socket.close()
    seen = await metrics(spaced_node, "steeple_attendance_snapshot")
    assert seen["steeple_attendance_snapshot_joiners_total"] == BURST
    reads = seen["steeple_attendance_snapshot_reads_total"]
    assert 1 <= reads <= 1 + elapsed / SPACING, f"{reads} reads in {elapsed:.2f} s"


async def test_drain_does_not_wait_out_the_spacing(sqlite_url: str) -> None:
    """The end of a Lambda call (and a shutdown) drains the snapshots: a joiner waiting
    for its room's next read is served at once, not a spacing later."""
    settings = node_settings(sqlite_url, attendance_interval=HOUR, attendance_snapshot_spacing=HOUR)
    node = Node(settings)
    await node.start()
    try:
        async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
            room = await live_room(http)
            ann, bob = await connect(node, 2)
            try:
                await join(http, ann, room, "Ann")
                assert viewers(await ann.next("attendance")) == ["Ann"]
                await join(http, bob, room, "Bob")  # the room's next read is an hour away
                await nothing_more([bob], http, room)
                assert bob.pending("attendance") == []
                await asyncio.wait_for(node.ctx.attendance.drain(), 10)
                assert viewers(await bob.next("attendance")) == ["Ann", "Bob"]
            finally:
                await ann.close()
                await bob.close()
    finally:
        await node.stop()
