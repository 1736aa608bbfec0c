"""Reference-counted rooms against a real node: one POST, one DELETE, late binding."""

from __future__ import annotations

from typing import Any

import httpx

from steeple.client import AttendanceSnapshot
from tests.support.client_nodes import MakeClient, live_room
from tests.support.client_tools import Recorder, RequestLog
from tests.support.wsclient import TestSocket


async def rows(client: Any, room: str) -> list[dict[str, Any]]:
    return list(await client.rest.connections("CH1", room))


async def test_a_join_leave_join_burst_posts_once_and_leaves_once(
    clients: MakeClient, sockets: Any, http: httpx.AsyncClient
) -> None:
    log = RequestLog()
    ann = await clients(name="Ann", http=log.client())
    room = await live_room(ann)
    observer: TestSocket = await sockets()
    await http.post(
        "/connections",
        json=[
            {
                "churchId": "CH1",
                "conversationId": room,
                "socketId": observer.socket_id,
                "displayName": "Observer",
            }
        ],
    )
    await ann.subscriptions.join("CH1", room)
    (first_row,) = [r for r in await rows(ann, room) if r["displayName"] == "Ann"]

    ann.subscriptions.leave("CH1", room)  # 1 -> 0: a DELETE is scheduled...
    await ann.subscriptions.join("CH1", room)  # ...and cancelled by the re-join
    await ann.subscriptions.join("CH1", room)  # 1 -> 2: nothing to post
    ann.subscriptions.leave("CH1", room)  # 2 -> 1: still a member
    assert ann.subscriptions.references("CH1", room) == 1
    (row,) = [r for r in await rows(ann, room) if r["displayName"] == "Ann"]
    assert row["id"] == first_row["id"]  # a second POST would have replaced the row
    assert await ann.subscriptions.joined("CH1", room) == ann.socket.socket_id

    ann.subscriptions.leave("CH1", room)  # 1 -> 0: leaves after the delay
    await observer.next(
        "attendance", lambda f: [v["displayName"] for v in f["data"]["viewers"]] == ["Observer"]
    )
    assert [r["displayName"] for r in await rows(ann, room)] == ["Observer"]
    assert log.count("POST /connections") == 1
    assert log.count("DELETE /connections/") == 1
    assert ann.subscriptions.rooms == []


async def test_joins_before_the_socket_id_are_posted_when_it_arrives(clients: MakeClient) -> None:
    ann = await clients(name="Ann", connect=False)
    room = await live_room(ann)
    seen = Recorder[AttendanceSnapshot]()
    ann.presence.subscribe(room, seen)
    await ann.subscriptions.join("CH1", room)  # no socketId yet: nothing posted
    await ann.subscriptions.join("CH1", room)
    assert await rows(ann, room) == []

    socket_id = await ann.connect()
    assert await ann.subscriptions.joined("CH1", room) == socket_id
    (row,) = await rows(ann, room)
    assert "socketId" not in row and row["displayName"] == "Ann"  # socketIds stay secret
    attendance = await seen.until(lambda s: s.total_viewers == 1)
    assert [v.display_name for v in attendance.viewers] == ["Ann"]
