"""What only the aws delivery does: PostToConnection per connection row, and its outcomes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from steeple.delivery.aws import MAX_MESSAGE_BYTES
from steeple.node import Node
from steeple.protocol.outbound import Outbound
from steeple.types import person_alerts_room
from tests.aws.conftest import MakeGateway
from tests.aws.events import scheduled_event
from tests.aws.gateway import Gateway
from tests.support.apigateway import aws_settings
from tests.support.management_fake import FakeManagementApi
from tests.support.nodes import auth
from tests.support.steps import join, live_room, send, shows, viewers


async def _room_viewers(http: httpx.AsyncClient, room: dict[str, Any]) -> list[str]:
    """The names of the room's connection rows (listings keep socketIds secret; each
    test gives every socket its own name)."""
    listed = await http.get(f"/connections/{room['churchId']}/{room['id']}")
    assert listed.status_code == 200, listed.text
    return sorted(r["displayName"] for r in listed.json())


async def test_get_id_is_answered_with_the_connection_id(
    gateway: Gateway, fake: FakeManagementApi
) -> None:
    socket = await gateway.open_socket()
    assert socket.socket_id == socket.connection_id
    await socket.send("are you there?")
    frame = await socket.next("socketId")
    assert frame == {
        "churchId": "",
        "conversationId": "",
        "action": "socketId",
        "data": socket.connection_id,
    }
    assert len(fake.posted(socket.connection_id)) == 2  # $connect itself sent nothing
    assert fake.unsigned == 0


async def test_frames_reach_exactly_the_rooms_connections(
    http: httpx.AsyncClient, sockets: Any, fake: FakeManagementApi
) -> None:
    room, other = await live_room(http), await live_room(http, service="svc2")
    ann, bob, cat = await sockets(), await sockets(), await sockets()
    await join(http, ann, room, "Ann")
    await join(http, bob, room, "Bob")
    await join(http, cat, other, "Cat")
    message = await send(http, room, "for this room")
    for socket in (ann, bob):
        frame = await socket.next("message")
        assert frame["data"]["id"] == message["id"]
        assert socket.pending("message") == []
    # nothing of this room was posted to cat (its own room's attendance may still come)
    assert not [f for f in fake.posted(cat.connection_id) if b"for this room" in f]
    assert cat.pending("message") == []


async def test_a_gone_connection_loses_its_rows_and_attendance_is_corrected(
    database_url: str, make_gateway: MakeGateway, fake: FakeManagementApi
) -> None:
    gateway = await make_gateway(aws_settings(database_url, fake.base_url))
    async with gateway.client() as http:
        room = await live_room(http)
        ann, bob = await gateway.open_socket(), await gateway.open_socket()
        await join(http, ann, room, "Ann")
        await join(http, bob, room, "Bob")
        await ann.next("attendance", shows("Ann", "Bob"))
        fake.disconnect(bob.connection_id)  # gone without a $disconnect

        await send(http, room, "is anyone there?")
        await ann.next("message")
        corrected = await ann.next("attendance", shows("Ann"))
        assert corrected["data"]["totalViewers"] == 1
        assert await _room_viewers(http, room) == ["Ann"]


async def test_slow_and_failing_connections_keep_their_rows(
    http: httpx.AsyncClient,
    sockets: Any,
    fake: FakeManagementApi,
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    room = await live_room(http)
    ann, slow, failing = await sockets(), await sockets(), await sockets()
    for socket, name in ((ann, "Ann"), (slow, "Sam"), (failing, "Fay")):
        await join(http, socket, room, name)
    fake.slow.add(slow.connection_id)
    fake.failing.add(failing.connection_id)
    tried = {s: fake.attempts[s.connection_id] for s in (slow, failing)}

    with caplog.at_level(logging.WARNING, logger="steeple.delivery.aws"):
        await send(http, room, "hello")
    await ann.next("message")
    assert await _room_viewers(http, room) == ["Ann", "Fay", "Sam"]
    logged = caplog.text
    assert slow.connection_id in logged and failing.connection_id in logged
    assert gateway.http.runtime.delivery.failed == 2
    for socket, before in tried.items():  # no retry: a timed-out post may have arrived
        assert fake.attempts[socket.connection_id] == before + 1


async def test_a_frame_over_the_api_gateway_limit_is_refused(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    ann = await sockets()
    await join(http, ann, room, "Ann")
    content = "\u0001" * 30_000  # JSON escapes each to six bytes: about 180 KB
    body = [
        {"churchId": "CH1", "conversationId": room["id"], "content": content, "displayName": "Ann"}
    ]
    response = await http.post("/messages/send", json=body)
    assert response.status_code == 413
    assert str(MAX_MESSAGE_BYTES) in response.json()["error"]
    assert "API Gateway" in response.json()["error"]
    assert ann.pending("message") == []
    await send(http, room, "small enough")
    assert (await ann.next("message"))["data"]["content"] == "small enough"


def _oversized(room: dict[str, Any]) -> dict[str, Any]:
    content = "\u0001" * 30_000  # JSON escapes each to six bytes: about 180 KB
    return {"churchId": "CH1", "conversationId": room["id"], "content": content}


async def test_a_refused_frame_leaves_nothing_stored(
    http: httpx.AsyncClient, sockets: Any, node: Node
) -> None:
    room = await live_room(http)
    ann = await sockets()
    await join(http, ann, room, "Ann")
    small = {"churchId": "CH1", "conversationId": room["id"], "content": "fits"}
    refused = await http.post(
        "/messages/send", json=[small, _oversized(room)], headers=auth("CH1", "P1")
    )
    assert refused.status_code == 413, refused.text
    assert await node.store.messages.newest(room["id"], 10) == []  # not even the small one
    stored = await node.store.conversations.get(room["id"])
    assert stored is not None and stored["postCount"] == 0 and stored["lastPostId"] is None
    assert ann.pending("message") == []


async def test_a_refused_edit_leaves_the_message_as_it_was(
    http: httpx.AsyncClient, sockets: Any, node: Node
) -> None:
    room = await live_room(http)
    ann = await sockets()
    await join(http, ann, room, "Ann")
    author = auth("CH1", "P1")
    message = await send(http, room, "before", headers=author)
    await ann.next("message")
    edit = {**_oversized(room), "id": message["id"]}
    refused = await http.post("/messages", json=[edit], headers=author)
    assert refused.status_code == 413, refused.text
    kept = await node.store.messages.get(message["id"])
    assert kept is not None and kept["content"] == "before" and kept["timeUpdated"] is None
    assert ann.pending("message") == []


async def test_frames_to_one_connection_arrive_in_order(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    ann = await sockets()
    await join(http, ann, room, "Ann")
    body = [
        {
            "churchId": "CH1",
            "conversationId": room["id"],
            "content": f"line {n}",
            "displayName": "Ann",
        }
        for n in range(12)
    ]
    # One request of 12 (signed in: an anonymous request holds one message).
    posted = await http.post("/messages/send", json=body, headers=auth("CH1", "P1"))
    assert posted.status_code == 200, posted.text
    received = [(await ann.next("message"))["data"]["content"] for _ in range(12)]
    assert received == [f"line {n}" for n in range(12)]


async def test_posts_run_with_bounded_concurrency(
    make_gateway: MakeGateway, sqlite_url: str, fake: FakeManagementApi
) -> None:
    gateway = await make_gateway(aws_settings(sqlite_url, fake.base_url, aws_concurrency=2))
    async with gateway.client() as http:
        room = await live_room(http)
        viewers = [await gateway.open_socket() for _ in range(6)]
        for number, socket in enumerate(viewers):
            await join(http, socket, room, f"Viewer {number}")
        # attendance frames of the joins may still be on their way: count the message's
        fake.max_in_flight, fake.holding, fake.counting = 0, True, b"to six viewers"
        sending = asyncio.create_task(send(http, room, "to six viewers"))
        for left in range(len(viewers), 0, -1):  # let one through whenever two are held
            assert await asyncio.to_thread(fake.wait_for_waiting, min(2, left), 5)
            fake.grant(1)
        await sending
        for socket in viewers:
            await socket.next("message")
    assert fake.max_in_flight == 2


async def test_a_joiner_gets_its_own_attendance_posted_to_its_connection_alone(
    sqlite_url: str, make_gateway: MakeGateway, fake: FakeManagementApi
) -> None:
    settings = aws_settings(sqlite_url, fake.base_url, attendance_interval=3600.0)
    gateway = await make_gateway(settings)
    async with gateway.client() as http:
        room = await live_room(http)
        ann, bob = await gateway.open_socket(), await gateway.open_socket()
        await join(http, ann, room, "Ann")
        await join(http, bob, room, "Bob")  # an invocation returns once its posts are made
    # Each join: the joiner's own snapshot, then the room's frame (an invocation sends
    # whatever attendance is due before it returns: Lambda does not pace the room).
    assert [viewers(f) for f in ann.pending("attendance")] == [["Ann"], ["Ann"], ["Ann", "Bob"]]
    assert [viewers(f) for f in bob.pending("attendance")] == [["Ann", "Bob"], ["Ann", "Bob"]]


async def test_the_scheduled_sweep_removes_rows_of_gone_connections(
    http: httpx.AsyncClient, sockets: Any, gateway: Gateway, fake: FakeManagementApi
) -> None:
    room = await live_room(http)
    ann, bob = await sockets(), await sockets()
    await join(http, ann, room, "Ann")
    await join(http, bob, room, "Bob")
    await ann.next("attendance", shows("Ann", "Bob"))
    fake.disconnect(bob.connection_id)
    assert await gateway.websocket.invoke(scheduled_event()) == {"removed": 1}
    assert await _room_viewers(http, room) == ["Ann"]
    await ann.next("attendance", shows("Ann"))


async def test_alerts_frames_reach_only_that_persons_connections(
    http: httpx.AsyncClient, sockets: Any, gateway: Gateway
) -> None:
    mine, theirs = await sockets(), await sockets()
    for socket, person in ((mine, "P1"), (theirs, "P2")):
        entry = {"churchId": "CH1", "conversationId": "alerts", "socketId": socket.socket_id}
        response = await http.post("/connections", json=[entry], headers=auth("CH1", person))
        assert response.status_code == 200, response.text
    frame = Outbound.of("CH1", "alert", "notification", {"counts": {"notificationCount": 1}})
    await gateway.http.run(
        lambda runtime: runtime.delivery.publish(person_alerts_room("CH1", "P1"), frame)
    )
    assert (await mine.next("notification"))["data"]["counts"]["notificationCount"] == 1
    assert theirs.pending("notification") == []


async def test_an_escaped_slash_stays_inside_its_path_segment(http: httpx.AsyncClient) -> None:
    response = await http.get("/connections/CH1/abc%2Fdef")
    assert response.status_code == 400  # one bad id, not a path with an extra segment
    assert "conversationId" in response.json()["error"]
