"""Denials end to end: 401 with ``{}`` or ``[]``, and nothing written."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import orjson
import pytest

from steeple.node import Node
from tests.support.nodes import JWT_SECRET, auth
from tests.support.steps import entry, group_room, live_room


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


CALLERS: dict[str, Callable[[], dict[str, str]]] = {
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


@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_denied_callers_get_401_and_nothing_is_written(
    caller: str, node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    headers = CALLERS[caller]()
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


async def test_one_denied_entry_fails_the_whole_join(
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


async def test_alerts_need_a_person_and_take_identity_from_the_token(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    socket = await sockets()
    body = [
        {
            "churchId": "CH2",
            "conversationId": "alerts",
            "socketId": socket.socket_id,
            "personId": "P7",
        }
    ]
    anonymous = await http.post("/connections", json=body)
    assert (anonymous.status_code, anonymous.json()) == (401, {})
    joined = await http.post("/connections", json=body, headers=auth("CH1", "P1"))
    assert joined.status_code == 200
    (row,) = joined.json()
    assert (row["churchId"], row["personId"]) == ("CH1", "P1")
    peek = await http.get("/connections/CH1/alerts", headers=auth("CH1", "P1"))
    assert (peek.status_code, peek.json()) == (401, [])
    assert len(await node.store.connections.in_room(("CH1", "alerts"))) == 1


async def test_anonymous_posts_only_to_public_live_rooms(http: httpx.AsyncClient) -> None:
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
