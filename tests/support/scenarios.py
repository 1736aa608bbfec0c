"""Scenarios that run both against a node (``tests/e2e``) and through API Gateway
and the aws delivery (``tests/aws``).

Each is a plain coroutine over the ``http``, ``sockets`` (and ``node``) fixtures: a test
in either suite calls it with the fixtures of its own ``conftest.py``, so one set of
assertions covers both deployments. Sockets are ``tests.support.wsclient.TestSocket``
against a node and ``tests.aws.gateway.GatewaySocket`` through API Gateway.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import orjson

from steeple.node import Node
from tests.support.nodes import JWT_SECRET, auth
from tests.support.steps import entry, group_room, join, live_room, post, send, shows, viewers

MEMBER = auth("CH1", "P1", group_ids=["G1"])
OTHER_MEMBER = auth("CH1", "P2", group_ids=["G1"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _member_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "id": "u-P9",
        "churchId": "CH1",
        "personId": "P9",
        "firstName": "Eve",
        "lastName": "Mallory",
        "groupIds": ["G1"],
        "leaderGroupIds": ["G1"],
        "permissions": ["Content__Edit"],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


DENIED_CALLERS: dict[str, Callable[[], dict[str, str]]] = {
    "anonymous": lambda: {},
    "non-member": lambda: auth("CH1", "P3", group_ids=["G2"]),
    "other church": lambda: auth("CH2", "P1", group_ids=["G1"], permissions=["Content__Edit"]),
    "forged": lambda: _bearer(jwt.encode(_member_claims(), "x" * 40, algorithm="HS256")),
    "expired": lambda: _bearer(
        jwt.encode(_member_claims(exp=int(time.time()) - 5), JWT_SECRET, algorithm="HS256")
    ),
    "alg none": lambda: _bearer(
        f"{_b64(orjson.dumps({'alg': 'none', 'typ': 'JWT'}))}."
        f"{_b64(orjson.dumps(_member_claims()))}."
    ),
}


async def two_viewers_see_each_others_message_exactly_once(
    http: httpx.AsyncClient, sockets: Any
) -> None:
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


async def attendance_follows_join_rename_leave_and_close(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    ann, bob = await sockets(), await sockets()
    await join(http, ann, room, "Ann")
    first = await ann.next("attendance", shows("Ann"))
    assert first["churchId"] == "CH1" and first["conversationId"] == room["id"]
    assert first["data"]["conversationId"] == room["id"]
    assert first["data"]["totalViewers"] == 1
    assert (await ann.next("blockedIp"))["data"] == []
    await join(http, bob, room, "Bob")
    both = await ann.next("attendance", shows("Ann", "Bob"))
    assert both["data"]["totalViewers"] == 2
    await bob.next("attendance", shows("Ann", "Bob"))

    response = await http.post(
        "/connections/setName", json={"socketId": bob.socket_id, "name": "Aaron"}
    )
    assert response.status_code == 200, response.text
    assert [r["displayName"] for r in response.json()] == ["Aaron"]
    await ann.next("attendance", shows("Aaron", "Ann"))  # sorted by displayName

    response = await http.delete(f"/connections/CH1/{room['id']}/{bob.socket_id}")
    assert (response.status_code, response.json()) == (200, {"success": True})
    left = await ann.next("attendance", shows("Ann"))
    assert left["data"]["totalViewers"] == 1

    await join(http, bob, room, "Bob")
    await ann.next("attendance", shows("Ann", "Bob"))
    await bob.close()
    closed = await ann.next("attendance", shows("Ann"))
    assert closed["data"]["totalViewers"] == 1
    listed = await http.get(f"/connections/CH1/{room['id']}")
    assert [r["displayName"] for r in listed.json()] == ["Ann"]
    assert all("socketId" not in r for r in listed.json())  # a socketId is its socket's secret


async def legacy_anonymous_names_are_numbered(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Host")
    guests = [await sockets() for _ in range(3)]
    for guest in guests:
        await join(http, guest, room, "Anonymous ")
    await watcher.next("attendance", shows("Anonymous_1", "Anonymous_2", "Anonymous_3", "Host"))
    await guests[2].close()
    await watcher.next("attendance", shows("Anonymous_1", "Anonymous_2", "Host"))
    late = await sockets()
    rows = await join(http, late, room, "Anonymous ")
    assert rows[0]["displayName"] == "Anonymous_4"
    nameless = await sockets()
    await join(http, nameless, room)
    frame = await watcher.next("attendance", lambda f: f["data"]["totalViewers"] == 5)
    assert viewers(frame) == ["Anonymous", "Anonymous_1", "Anonymous_2", "Anonymous_4", "Host"]


async def denied_callers_get_401_and_nothing_is_written(
    caller: str, node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    headers = DENIED_CALLERS[caller]()
    group = await group_room(http)
    room = ("CH1", group["id"])
    socket = await sockets()
    joined = await http.post("/connections", json=[entry(socket, group, "Eve")], headers=headers)
    assert (joined.status_code, joined.reason_phrase, joined.json()) == (401, "Unauthorized", {})
    assert await node.store.connections.in_room(room) == []

    body = [
        {
            "churchId": "CH1",
            "conversationId": group["id"],
            "content": "sneaky",
            "displayName": "Eve",
        }
    ]
    sent = await http.post("/messages/send", json=body, headers=headers)
    assert (sent.status_code, sent.json()) == (401, {})
    catchup = await http.get(f"/messages/catchup/CH1/{group['id']}", headers=headers)
    assert (catchup.status_code, catchup.json()) == (401, [])
    listed = await http.get(f"/connections/CH1/{group['id']}", headers=headers)
    assert (listed.status_code, listed.json()) == (401, [])
    one = await http.get(f"/conversations/CH1/{group['id']}", headers=headers)
    assert (one.status_code, one.json()) == (401, {})
    assert await node.store.messages.in_conversation(group["id"]) == []
    assert socket.pending("attendance") == []


async def one_denied_entry_fails_the_whole_join(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    live, group = await live_room(http), await group_room(http)
    socket = await sockets()
    response = await http.post(
        "/connections", json=[entry(socket, live, "Ann"), entry(socket, group, "Ann")]
    )
    assert (response.status_code, response.json()) == (401, {})
    assert await node.store.connections.socket_rows(socket.socket_id) == []
    allowed = await http.post("/connections", json=[entry(socket, live, "Ann")])
    assert allowed.status_code == 200
    # The 401 sent no frames; the one allowed join sends its attendance and blockedIp.
    await socket.next("attendance")
    assert (await socket.next("blockedIp"))["data"] == []
    assert socket.pending("attendance") == socket.pending("blockedIp") == []


async def anonymous_posts_only_to_public_live_rooms(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    body = [
        {
            "churchId": "CH1",
            "conversationId": room["id"],
            "content": "hi",
            "personId": "P1",
            "displayName": "Imposter",
        }
    ]
    response = await http.post("/messages/send", json=body)
    assert response.status_code == 200
    assert response.json()[0]["personId"] is None
    authenticated_only = await http.post(
        "/messages", json=[{"conversationId": room["id"], "content": "hi"}]
    )
    assert (authenticated_only.status_code, authenticated_only.json()) == (401, {})
    other_church = await http.post("/messages/send", json=[{**body[0], "churchId": "CH2"}])
    assert other_church.status_code in (401, 404)
    catchup = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["content"] for m in catchup] == ["hi"]


async def catchup_is_oldest_first_and_after_returns_the_rest(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    batch = [
        {"churchId": "CH1", "conversationId": room["id"], "content": f"m{i}", "displayName": "Ann"}
        for i in range(5)
    ]
    # One batch, so the same millisecond: a signed-in caller may batch (an anonymous
    # one may not), and one whose token has no personId stores none.
    response = await http.post("/messages/send", json=batch, headers=auth("CH1", ""))
    assert response.status_code == 200, response.text
    saved = response.json()
    await send(http, room, "m5")
    url = f"/messages/catchup/CH1/{room['id']}"
    everything = (await http.get(url)).json()
    assert [m["content"] for m in everything] == [f"m{i}" for i in range(6)]
    assert all(m["timeSent"].endswith("Z") and m["personId"] is None for m in everything)
    later = (await http.get(url, params={"after": saved[2]["id"]})).json()
    assert [m["content"] for m in later] == ["m3", "m4", "m5"]
    assert (await http.get(url, params={"after": everything[-1]["id"]})).json() == []
    by_id = await http.get(f"/messages/CH1/{saved[0]['id']}")
    assert by_id.json()["content"] == "m0"
    conversation = (await http.get(f"/conversations/CH1/{room['id']}")).json()
    assert conversation["postCount"] == 6
    assert (conversation["firstPostId"], conversation["lastPostId"]) == (
        saved[0]["id"],
        everything[-1]["id"],
    )


async def conversation_activity_reaches_content_room_subscribers(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    live_watcher, group_watcher, outsider = await sockets(), await sockets(), await sockets()
    await join(http, live_watcher, ("CH1", "content-streamingLive-svc7"))
    await join(http, group_watcher, ("CH1", "content-group-G1"), headers=MEMBER)
    denied = await http.post(
        "/connections",
        json=[
            {
                "churchId": "CH1",
                "conversationId": "content-group-G1",
                "socketId": outsider.socket_id,
            }
        ],
        headers=auth("CH1", "P3", group_ids=["G2"]),
    )
    assert (denied.status_code, denied.json()) == (401, {})

    room = await live_room(http, service="svc7")
    created = await live_watcher.next("conversationActivity")
    assert created["conversationId"] == "content-streamingLive-svc7"
    assert created["data"] == {
        "contentType": "streamingLive",
        "contentId": "svc7",
        "conversationId": room["id"],
        "kind": "created",
    }
    await send(http, room, "hello")
    activity = await live_watcher.next("conversationActivity")
    assert activity["data"]["kind"] == "message"
    assert activity["data"]["conversationId"] == room["id"]

    group = await group_room(http)
    frame = await group_watcher.next("conversationActivity")
    assert (frame["data"]["kind"], frame["data"]["conversationId"]) == ("created", group["id"])
    await post(http, group, "for the group", MEMBER)
    frame = await group_watcher.next("conversationActivity")
    assert (frame["data"]["kind"], frame["data"]["contentId"]) == ("message", "G1")
    await send(http, room, "marker")
    await live_watcher.next("conversationActivity", lambda f: f["data"]["kind"] == "message")
    assert outsider.pending("conversationActivity") == []
    assert live_watcher.pending("conversationActivity") == []


async def author_deletes_and_others_are_refused(http: httpx.AsyncClient, sockets: Any) -> None:
    group = await group_room(http)
    watcher = await sockets()
    await join(http, watcher, group, "Bea", headers=OTHER_MEMBER)
    message = await post(http, group, "oops", MEMBER)
    assert message["personId"] == "P1" and message["displayName"] == "Pat P1"
    await watcher.next("message", lambda f: f["data"]["id"] == message["id"])

    refused = await http.delete(f"/messages/{message['id']}", headers=OTHER_MEMBER)
    assert (refused.status_code, refused.json()) == (401, {})
    assert refused.reason_phrase == "Unauthorized"
    anonymous = await http.delete(f"/messages/{message['id']}")
    assert anonymous.status_code == 401
    catchup = await http.get(f"/messages/catchup/CH1/{group['id']}", headers=MEMBER)
    assert [m["id"] for m in catchup.json()] == [message["id"]]

    deleted = await http.delete(f"/messages/{message['id']}", headers=MEMBER)
    assert deleted.json() == {"message": "Message deleted successfully"}
    frame = await watcher.next("deleteMessage")
    assert frame["data"] == {"id": message["id"]}
    assert frame["conversationId"] == group["id"]
    assert (await http.get(f"/messages/catchup/CH1/{group['id']}", headers=MEMBER)).json() == []
    conversation = (await http.get(f"/conversations/CH1/{group['id']}", headers=MEMBER)).json()
    assert (conversation["postCount"], conversation["lastPostId"]) == (0, None)
    again = await http.delete(f"/messages/{message['id']}", headers=MEMBER)
    assert again.status_code == 404


async def edit_sends_the_edited_message(http: httpx.AsyncClient, sockets: Any) -> None:
    group = await group_room(http)
    watcher = await sockets()
    await join(http, watcher, group, "Bea", headers=OTHER_MEMBER)
    original = await post(http, group, "frist", MEMBER)
    await watcher.next("message", lambda f: f["data"]["id"] == original["id"])

    refused = await http.post(
        "/messages",
        headers=OTHER_MEMBER,
        json=[{"id": original["id"], "conversationId": group["id"], "content": "hijacked"}],
    )
    assert (refused.status_code, refused.json()) == (401, {})
    edited = await post(http, group, "first", MEMBER, id=original["id"])
    assert edited["id"] == original["id"] and edited["timeUpdated"]
    frame = await watcher.next("message", lambda f: f["data"]["id"] == original["id"])
    assert frame["data"]["content"] == "first"
    assert frame["data"]["personId"] == "P1" and frame["data"]["timeUpdated"]
    assert frame["data"]["timeSent"] == original["timeSent"]
    stored = (await http.get(f"/messages/CH1/{original['id']}", headers=MEMBER)).json()
    assert (stored["content"], stored["timeUpdated"]) == ("first", edited["timeUpdated"])
    listed = (await http.get(f"/messages/conversation/{group['id']}", headers=MEMBER)).json()
    assert [m["content"] for m in listed] == ["first"]
