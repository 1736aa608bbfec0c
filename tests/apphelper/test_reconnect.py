"""The published client across a node restart: its socket closes, the app calls
``SocketHelper.init()`` again, re-joins with the new socketId, catches up on what it
missed and hears later messages."""

from __future__ import annotations

import httpx

from steeple.node import Node
from tests.apphelper.driver import StartClient
from tests.apphelper.steps import joined_viewer, names
from tests.support.client_nodes import Restartable
from tests.support.steps import live_room, send


async def test_after_a_restart_the_app_reconnects_rejoins_and_hears_later_messages(
    restartable: Restartable, start_client: StartClient
) -> None:
    node = restartable.node
    assert node is not None
    client = await start_client(node)
    joined = await joined_viewer(client)
    room = joined["conversation"]
    first_socket = client.seen("connected")[0]["socketId"]
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
        await send(http, room, "before the restart")
        assert (await client.next("message"))["data"]["content"] == "before the restart"

    await restartable.stop()
    closed = await client.next("closed")
    assert closed["socketId"] == first_socket
    client.forget()
    node = await restartable.start()
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
        assert (await live_room(http))["id"] == room["id"]  # same database, same room
        await send(http, room, "while it was away")

        await client.do("reconnect")
        reconnected = await client.next("reconnected")
        assert reconnected["before"] == "CLOSED"  # the package itself never reopens
        assert reconnected["socketId"] not in ("", first_socket)
        [rejoined] = reconnected["rejoined"]
        assert rejoined["conversationId"] == room["id"]
        assert [m["content"] for m in rejoined["catchup"]] == [
            "before the restart",
            "while it was away",
        ]
        back = await client.next("attendance", lambda e: names(e) == ["Ann Viewer"])
        assert back["data"]["totalViewers"] == 1  # the old socket's row went with it

        await send(http, room, "after the restart")
        later = await client.next("message", lambda e: e["data"]["content"] == "after the restart")
        assert later["data"]["conversationId"] == room["id"]


async def test_when_the_node_drops_its_socket_the_app_gets_back_in(
    node: Node, start_client: StartClient, http: httpx.AsyncClient
) -> None:
    client = await start_client(node)
    room = (await joined_viewer(client))["conversation"]
    first_socket = client.seen("connected")[0]["socketId"]
    dropped = node.hub.get(first_socket)
    assert dropped is not None
    dropped.close(4008, "too slow")  # what the node does to a socket that falls behind
    assert (await client.next("closed"))["code"] == 4008
    client.forget()
    await send(http, room, "said while it was out")

    await client.do("reconnect")
    reconnected = await client.next("reconnected")
    assert reconnected["before"] == "CLOSED" and reconnected["socketId"] != first_socket
    [rejoined] = reconnected["rejoined"]
    assert [m["content"] for m in rejoined["catchup"]] == ["said while it was out"]
    await client.next("attendance", lambda e: names(e) == ["Ann Viewer"])
    await send(http, room, "said after")
    later = await client.next("message")
    assert later["data"]["content"] == "said after"
