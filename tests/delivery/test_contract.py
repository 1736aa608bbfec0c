"""The guarantees of :class:`steeple.delivery.base.Delivery`, checked over every backend.

Each test has a *holder* (what holds the sockets that receive) and an *actor* (the
node whose delivery is called): one node locally, two nodes over Redis, and over AWS
the aws delivery with API Gateway's connections (``tests/support/delivery_pairs.py``).
A guarantee a backend cannot have is excluded for that backend alone, with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from steeple.types import Room
from tests.support.delivery_pairs import BACKENDS, HubPair, Pair, Socket, message, start_pair
from tests.support.sockets import RecordingSocket

ROOM: Room = ("CH1", "room-a")
OTHER: Room = ("CH1", "room-b")


def backends_except(**reasons: str) -> pytest.MarkDecorator:
    """Run the test over every backend but those named, each skipped with its reason."""
    return pytest.mark.parametrize(
        "pair",
        [
            pytest.param(name, marks=pytest.mark.skip(reason=f"not applicable to {name}: {why}"))
            if (why := reasons.get(name))
            else name
            for name in BACKENDS
        ],
        indirect=True,
    )


@pytest.fixture(params=BACKENDS)
async def pair(
    request: pytest.FixtureRequest, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Pair]:
    started = await start_pair(request.param, sqlite_url, monkeypatch)
    yield started
    await started.stop()


def content_is(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["data"]["content"] == text


async def receive_once(socket: Socket, text: str, marker: str) -> None:
    """``text`` arrives, then ``marker``, and nothing else came in between or after."""
    await socket.next("message", content_is(text))
    await socket.next("message", content_is(marker))
    assert socket.pending("message") == []


async def test_every_member_gets_each_frame_exactly_once(pair: Pair) -> None:
    members = [await pair.socket(), await pair.socket(), await pair.socket(at_actor=True)]
    for socket in members:
        assert await pair.join(ROOM, socket.socket_id) is True
    await pair.publish(ROOM, "hello")
    await pair.publish(ROOM, "marker")
    for socket in members:
        await receive_once(socket, "hello", "marker")


async def test_membership_takes_effect_when_join_returns(pair: Pair) -> None:
    socket = await pair.socket()
    await pair.publish(ROOM, "before")
    await pair.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "after")
    await pair.publish(ROOM, "marker")
    await receive_once(socket, "after", "marker")


async def test_no_frame_after_leave_returns(pair: Pair) -> None:
    socket = await pair.socket()
    await pair.join(ROOM, socket.socket_id)
    await pair.join(OTHER, socket.socket_id)
    await pair.leave(ROOM, socket.socket_id)
    await pair.publish(ROOM, "left behind")
    await pair.publish(OTHER, "marker")  # one publisher: would arrive after "left behind"
    await socket.next("message", content_is("marker"))
    assert socket.pending("message") == []


async def test_frames_arrive_in_the_order_they_were_published(pair: Pair) -> None:
    socket = await pair.socket()
    await pair.join(ROOM, socket.socket_id)
    for number in range(50):
        await pair.publish(ROOM, str(number))
    received = [(await socket.next("message"))["data"]["content"] for _ in range(50)]
    assert received == [str(number) for number in range(50)]


async def test_every_member_is_sent_the_same_encoded_bytes(pair: Pair) -> None:
    first, second = await pair.recorder(), await pair.recorder()
    for socket in (first, second):
        await pair.join(ROOM, socket.socket_id)
    shared = message(ROOM, "shared")
    await pair.delivery.publish(ROOM, shared)
    assert await first.payloads(1) == await second.payloads(1) == [shared.payload]


@backends_except(
    aws="API Gateway has no hub to share an encoded frame in: each PostToConnection "
    "carries its own copy of the body over HTTP, so only equal bytes can be observed "
    "(test_every_member_is_sent_the_same_encoded_bytes)"
)
async def test_a_node_encodes_each_frame_once_for_all_its_members(pair: Pair) -> None:
    assert isinstance(pair, HubPair)
    first, second = await pair.recorder(), await pair.recorder()
    assert isinstance(first, RecordingSocket) and isinstance(second, RecordingSocket)
    for socket in (first, second):
        await pair.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "shared")
    await first.payloads(1)
    await second.payloads(1)
    assert first.frames[0] is second.frames[0]
    assert b'"content":"shared"' in first.frames[0].payload


async def test_live_socket_ids_knows_sockets_of_every_node(pair: Pair) -> None:
    here = await pair.socket()
    there = await pair.socket(at_actor=True)
    gone = await pair.socket()
    await pair.join(OTHER, gone.socket_id)
    await pair.close(gone, last_in=OTHER)
    candidates = {here.socket_id, there.socket_id, gone.socket_id, "neverExisted"}
    assert await pair.delivery.live_socket_ids(candidates) == {here.socket_id, there.socket_id}


async def test_joining_a_socket_nobody_holds_changes_nothing(pair: Pair) -> None:
    socket = await pair.socket()
    assert await pair.join(ROOM, "noSuchSock1") is False
    await pair.leave(ROOM, "noSuchSock1")
    await pair.join(ROOM, socket.socket_id)
    await pair.publish(ROOM, "still works")
    await pair.publish(ROOM, "marker")
    await receive_once(socket, "still works", "marker")


async def test_send_reaches_that_one_socket_only(pair: Pair) -> None:
    """The actor never asked about these sockets: over Redis it does not know their node."""
    chosen = await pair.socket()
    neighbour = await pair.socket()
    for socket in (chosen, neighbour):
        await pair.join(ROOM, socket.socket_id)
    await pair.delivery.send(chosen.socket_id, message(ROOM, "for you"))
    await pair.delivery.send("noSuchSock1", message(ROOM, "for nobody"))
    await pair.publish(ROOM, "marker")
    await receive_once(chosen, "for you", "marker")
    await neighbour.next("message", content_is("marker"))
    assert neighbour.pending("message") == []


async def test_health_reports_ok(pair: Pair) -> None:
    assert pair.delivery.health()["ok"] is True
