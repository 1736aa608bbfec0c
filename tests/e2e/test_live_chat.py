"""Two sockets in a public live room, end to end through real sockets."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.wsclient import TestSocket


async def live_room(
    http: httpx.AsyncClient, church: str = "CH1", service: str = "svc1"
) -> dict[str, Any]:
    response = await http.get(f"/conversations/current/{church}/streamingLive/{service}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def join(
    http: httpx.AsyncClient, socket: TestSocket, room: dict[str, Any], name: str
) -> None:
    entry = {
        "churchId": room["churchId"],
        "conversationId": room["id"],
        "socketId": socket.socket_id,
        "displayName": name,
    }
    response = await http.post("/connections", json=[entry])
    assert response.status_code == 200, response.text


async def test_two_viewers_see_each_others_message_exactly_once(http, sockets) -> None:
    room = await live_room(http)
    ann, bob = await sockets(), await sockets()
    await join(http, ann, room, "Ann")
    await join(http, bob, room, "Bob")
    for text in ("hello from ann", "marker"):
        body = [
            {"churchId": "CH1", "conversationId": room["id"], "content": text, "displayName": "Ann"}
        ]
        response = await http.post("/messages/send", json=body)
        assert response.status_code == 200, response.text
    for socket in (ann, bob):
        first = await socket.next("message")
        await socket.next("message", lambda f: f["data"]["content"] == "marker")
        assert first["data"]["content"] == "hello from ann"
        assert first["data"]["personId"] is None
        assert first["data"]["timeSent"].endswith("Z")
        assert [f for f in socket.pending("message")] == []
