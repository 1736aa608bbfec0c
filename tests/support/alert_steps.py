"""Steps the private-message, notification and moderation tests share."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.nodes import auth
from tests.support.steps import join
from tests.support.wsclient import TestSocket


async def alerts_socket(
    http: httpx.AsyncClient, socket: TestSocket, person: str, church: str = "CH1", **claims: Any
) -> TestSocket:
    """``socket`` joined to the ``alerts`` room of ``person``."""
    await join(http, socket, (church, "alerts"), headers=auth(church, person, **claims))
    return socket


async def counts(http: httpx.AsyncClient, person: str, church: str = "CH1") -> dict[str, int]:
    response = await http.get("/notifications/unreadCount", headers=auth(church, person))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def open_thread(
    http: httpx.AsyncClient, sender: str, recipient: str, church: str = "CH1"
) -> dict[str, Any]:
    """Open a thread the way ChurchApps clients do: conversation first, then the thread."""
    headers = auth(church, sender)
    conversation = {
        "contentType": "privateMessage",
        "contentId": sender,
        "title": "Private Message",
        "visibility": "hidden",
        "allowAnonymousPosts": False,
    }
    response = await http.post("/conversations", json=[conversation], headers=headers)
    assert response.status_code == 200, response.text
    body = [
        {
            "fromPersonId": sender,
            "toPersonId": recipient,
            "conversationId": response.json()[0]["id"],
        }
    ]
    response = await http.post("/privateMessages", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


def is_json_error(response: httpx.Response, status: int) -> bool:
    """A 4xx answer with a JSON body (an ``error`` naming the problem unless it is a 401)."""
    body = response.json()
    if response.status_code != status:
        return False
    return status == 401 or bool(isinstance(body, dict) and body.get("error"))


async def settle(socket: TestSocket) -> None:
    """Wait until every frame queued for ``socket`` so far has arrived.

    The server answers any text with the socketId frame, written after whatever was
    already queued for the socket, so its arrival is a marker.
    """
    await socket.ws.send("getId")
    await socket.next("socketId")
