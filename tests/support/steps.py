"""REST steps the end-to-end tests share: rooms, joins, posts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.nodes import auth
from tests.support.rawsocket import RawSocket
from tests.support.wsclient import TestSocket

AnySocket = TestSocket | RawSocket


async def live_room(
    http: httpx.AsyncClient, church: str = "CH1", service: str = "svc1"
) -> dict[str, Any]:
    response = await http.get(f"/conversations/current/{church}/streamingLive/{service}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def group_room(
    http: httpx.AsyncClient,
    group: str = "G1",
    church: str = "CH1",
    person: str = "P1",
    content_type: str = "group",
) -> dict[str, Any]:
    """A conversation of a group, created by a member of it."""
    body = [
        {
            "contentType": content_type,
            "contentId": group,
            "groupId": group,
            "title": f"{group} chat",
        }
    ]
    headers = auth(church, person, group_ids=[group], leader_group_ids=[group])
    response = await http.post("/conversations", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


def entry(
    socket: AnySocket, room: dict[str, Any] | tuple[str, str], name: str = ""
) -> dict[str, Any]:
    church, conversation = (room["churchId"], room["id"]) if isinstance(room, dict) else room
    return {
        "churchId": church,
        "conversationId": conversation,
        "socketId": socket.socket_id,
        "displayName": name,
    }


async def join(
    http: httpx.AsyncClient,
    socket: AnySocket,
    room: dict[str, Any] | tuple[str, str],
    name: str = "",
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    response = await http.post("/connections", json=[entry(socket, room, name)], headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def send(
    http: httpx.AsyncClient,
    room: dict[str, Any],
    content: str,
    name: str = "Ann",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = [
        {
            "churchId": room["churchId"],
            "conversationId": room["id"],
            "content": content,
            "displayName": name,
        }
    ]
    response = await http.post("/messages/send", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


async def post(
    http: httpx.AsyncClient,
    room: dict[str, Any],
    content: str,
    headers: dict[str, str],
    **fields: Any,
) -> dict[str, Any]:
    body = [{"conversationId": room["id"], "content": content, **fields}]
    response = await http.post("/messages", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


def viewers(frame: dict[str, Any]) -> list[str]:
    return [v["displayName"] for v in frame["data"]["viewers"]]


def shows(*names: str) -> Any:
    """Predicate: an attendance frame listing exactly these viewer names, in this order."""
    return lambda frame: viewers(frame) == list(names)
