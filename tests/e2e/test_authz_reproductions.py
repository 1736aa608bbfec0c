"""The attacks of the authorization review, replayed against a node: each now fails.

One test per reproduction, in the review's order; the matrix and the stateful test
walk the rules in general, these pin the exact sequences that once worked.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from tests.support.alert_steps import open_thread, settle
from tests.support.nodes import JWT_SECRET, auth
from tests.support.steps import entry, join, live_room, post
from tests.support.wsclient import TestSocket

THIRD = auth("CH1", "P3")
EDITOR = auth("CH1", "P8", permissions=["Content__Edit"])
HOST = auth("CH1", "P7", permissions=["Chat__Host"])


def _takeover(conversation_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": conversation_id,
            "contentType": "streamingLive",
            "contentId": "x",
            "title": "now public",
            "visibility": "public",
            "allowAnonymousPosts": True,
        }
    ]


async def _stored(http: httpx.AsyncClient, conversation_id: str) -> dict[str, Any]:
    response = await http.get(f"/conversations/CH1/{conversation_id}", headers=EDITOR)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_1_a_third_member_can_neither_fetch_nor_reopen_a_private_thread(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    thread = await open_thread(http, "P1", "P2")
    dm = thread["conversationId"]
    await post(http, {"id": dm}, "secret", auth("CH1", "P1"))

    current = await http.get("/conversations/current/CH1/privateMessage/P1", headers=THIRD)
    assert (current.status_code, current.json()) == (401, {})
    fresh = await http.get("/conversations/current/CH1/privateMessage/P9", headers=THIRD)
    assert fresh.status_code == 401  # and no row is created lazily for anyone
    listed = await http.get("/conversations/CH1/privateMessage/P9", headers=auth("CH1", "P9"))
    assert listed.json() == []

    takeover = await http.post("/conversations", json=_takeover(dm), headers=THIRD)
    assert (takeover.status_code, takeover.json()) == (401, {})
    catchup = await http.get(f"/messages/catchup/CH1/{dm}")
    assert catchup.status_code == 401
    eavesdropper = await sockets()
    joined = await http.post("/connections", json=[entry(eavesdropper, ("CH1", dm))])
    assert joined.status_code == 401
    await post(http, {"id": dm}, "second secret", auth("CH1", "P2"))
    await settle(eavesdropper)
    assert eavesdropper.pending("message") == []


async def test_2_a_member_cannot_rewrite_the_churchs_conversations(
    http: httpx.AsyncClient,
) -> None:
    room = await live_room(http)
    rewrite = [
        {
            "id": room["id"],
            "contentType": "group",
            "contentId": "G1",
            "title": "mine now",
            "allowAnonymousPosts": False,
        }
    ]
    response = await http.post("/conversations", json=rewrite, headers=THIRD)
    assert (response.status_code, response.json()) == (401, {})
    stored = await _stored(http, room["id"])
    assert (stored["contentType"], stored["title"], stored["allowAnonymousPosts"]) == (
        "streamingLive",
        room["title"],
        True,
    )
    # Content__Edit may retitle it, but type and content stay what they are.
    response = await http.post("/conversations", json=rewrite, headers=EDITOR)
    assert response.status_code == 200, response.text
    stored = await _stored(http, room["id"])
    assert (stored["contentType"], stored["contentId"], stored["title"]) == (
        "streamingLive",
        "svc1",
        "mine now",
    )


async def test_3_content_edit_cannot_edit_or_delete_private_messages(
    http: httpx.AsyncClient,
) -> None:
    thread = await open_thread(http, "P1", "P2")
    message = await post(http, {"id": thread["conversationId"]}, "secret", auth("CH1", "P1"))
    edit = [{"id": message["id"], "conversationId": thread["conversationId"], "content": "x"}]
    edited = await http.post("/messages", json=edit, headers=EDITOR)
    assert edited.status_code == 401
    deleted = await http.delete(f"/messages/{message['id']}", headers=EDITOR)
    assert deleted.status_code == 401
    kept = await http.get(f"/messages/CH1/{message['id']}", headers=auth("CH1", "P2"))
    assert kept.json()["content"] == "secret"


async def test_4_connection_listings_and_frames_never_carry_socket_ids(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    viewer, host = await sockets(), await sockets()
    await join(http, viewer, room, "Ann")
    await join(http, host, room, "Pastor", headers=HOST)
    attendance = await viewer.next("attendance", lambda f: f["data"]["totalViewers"] == 2)
    assert viewer.socket_id not in str(attendance) and host.socket_id not in str(attendance)

    for headers, shows_people in (({}, False), (THIRD, False), (HOST, True), (EDITOR, True)):
        listed = await http.get(f"/connections/CH1/{room['id']}", headers=headers)
        assert listed.status_code == 200, listed.text
        assert all("socketId" not in row for row in listed.json())
        assert any("personId" in row for row in listed.json()) is shows_people
        assert viewer.socket_id not in listed.text and host.socket_id not in listed.text


async def test_5_joins_for_sockets_that_are_not_open_write_nothing(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    await watcher.next("attendance", lambda f: f["data"]["totalViewers"] == 1)
    gone = await sockets()
    gone_id = gone.socket_id
    await gone.close()
    for socket_id in ("neverExisted", gone_id):
        body = [{"churchId": "CH1", "conversationId": room["id"], "socketId": socket_id}]
        response = await http.post("/connections", json=body)
        assert response.status_code == 400, response.text
        assert "not an open socket" in response.json()["error"]
    listed = await http.get(f"/connections/CH1/{room['id']}", headers=EDITOR)
    assert [row["displayName"] for row in listed.json()] == ["Watcher"]


async def test_5_a_socket_closing_during_its_join_leaves_no_row(
    http: httpx.AsyncClient, node: Any
) -> None:
    room = await live_room(http)

    async def join_while_closing() -> None:
        socket = await TestSocket.connect(node.socket_url)
        body = [entry(socket, room, "Racer")]
        await asyncio.gather(http.post("/connections", json=body), socket.close())

    await asyncio.gather(*(join_while_closing() for _ in range(40)))
    deadline = time.monotonic() + 10
    # No event says "the server has seen every close": poll the hub, with a deadline.
    while len(node.hub) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await node.ctx.drain()  # the close paths' row removals have run
    listed = await http.get(f"/connections/CH1/{room['id']}", headers=EDITOR)
    assert listed.json() == []


async def test_6_a_conversation_batch_with_one_denied_entry_saves_nothing(
    http: httpx.AsyncClient,
) -> None:
    good = {"contentType": "sermon", "contentId": "S1", "title": "fine"}
    denied = {"contentType": "group", "contentId": "G9", "title": "not my group"}
    member = auth("CH1", "P3", group_ids=["G1"])
    response = await http.post("/conversations", json=[good, denied], headers=member)
    assert (response.status_code, response.json()) == (401, {})
    listed = await http.get("/conversations/CH1/sermon/S1", headers=member)
    assert listed.json() == []


async def test_7_a_token_without_exp_is_anonymous(http: httpx.AsyncClient) -> None:
    claims = {"id": "u1", "churchId": "CH1", "personId": "P1", "iat": int(time.time())}
    forever = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    response = await http.get(
        "/notifications/unreadCount", headers={"Authorization": f"Bearer {forever}"}
    )
    assert response.status_code == 401
