"""The published @churchapps/apphelper client in a live-stream room: handshake, join,
messages both ways and attendance, driven from Node against a real node."""

from __future__ import annotations

import re
from typing import Any

import httpx

from steeple.node import Node
from tests.apphelper.driver import StartClient, installed_version
from tests.apphelper.steps import joined_viewer, names
from tests.support.steps import join, live_room, send, viewers

SOCKET_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def test_the_suite_drives_the_newest_published_version() -> None:
    """The lock pins what the registry served as newest when it was written: 0.7.1."""
    assert installed_version() == "0.7.1"


async def test_handshake_gives_socket_helper_its_socket_id(
    node: Node, start_client: StartClient, http: httpx.AsyncClient
) -> None:
    client = await start_client(node)
    await client.do("connect")
    connected = await client.next("connected")
    assert SOCKET_ID.match(connected["socketId"]) and connected["state"] == "OPEN"
    room = await live_room(http)
    response = await http.post(
        "/connections",
        json=[{"churchId": "CH1", "conversationId": room["id"], "socketId": connected["socketId"]}],
    )
    assert response.status_code == 200  # the node knows the id as an open socket of its own


async def test_joins_a_live_room_and_gets_its_history(
    node: Node, start_client: StartClient, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    await send(http, room, "welcome, everyone", name="Host Hal")
    client = await start_client(node)
    joined = await joined_viewer(client)
    conversation: dict[str, Any] = joined["conversation"]
    assert conversation["id"] == room["id"] and conversation["contentType"] == "streamingLive"
    assert conversation["allowAnonymousPosts"] is True
    [row] = joined["connections"]
    assert row["socketId"] == client.seen("connected")[0]["socketId"]
    assert row["displayName"] == "Ann Viewer" and row["personId"] is None
    assert [(m["content"], m["displayName"]) for m in joined["catchup"]] == [
        ("welcome, everyone", "Host Hal")
    ]
    attendance = await client.next("attendance", lambda e: "Ann Viewer" in names(e))
    assert attendance["data"]["conversationId"] == room["id"]
    assert attendance["data"]["totalViewers"] == 1


async def test_receives_messages_and_attendance_of_the_room(
    node: Node, start_client: StartClient, http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    client = await start_client(node)
    await joined_viewer(client)
    other = await sockets()
    await join(http, other, room, "Bob")
    both = await client.next("attendance", lambda e: names(e) == ["Ann Viewer", "Bob"])
    assert both["data"]["totalViewers"] == 2
    assert all("socketId" not in v for v in both["data"]["viewers"])

    saved = await send(http, room, 'He said "amen" 🙏 <b>', name="Bob")
    message = await client.next("message")
    assert message["data"]["id"] == saved["id"]
    assert message["data"]["content"] == 'He said "amen" 🙏 <b>'
    assert message["data"]["displayName"] == "Bob" and message["data"]["personId"] is None
    assert message["data"]["conversationId"] == room["id"] and message["data"]["timeSent"]

    await other.close()
    alone = await client.next("attendance", lambda e: names(e) == ["Ann Viewer"])
    assert alone["data"]["totalViewers"] == 1


async def test_messages_it_sends_reach_the_other_viewers(
    node: Node, start_client: StartClient, http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    other = await sockets()
    await join(http, other, room, "Bob")
    client = await start_client(node)
    await joined_viewer(client)
    await client.do(
        "send",
        churchId="CH1",
        conversationId=room["id"],
        content="hello from Ann",
        displayName="Ann",
    )
    sent = (await client.next("sent"))["messages"][0]
    frame = await other.next("message")
    assert frame["data"]["id"] == sent["id"] and frame["data"]["content"] == "hello from Ann"
    echoed = await client.next("message")  # the sender's own socket is in the room too
    assert echoed["data"]["id"] == sent["id"]
    assert viewers(await other.next("attendance", lambda f: len(viewers(f)) == 2)) == [
        "Ann Viewer",
        "Bob",
    ]
