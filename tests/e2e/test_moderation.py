"""Moderation: blocked address pseudonyms, their enforcement, callouts, client addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.errors import ConfigError
from steeple.node import Node
from steeple.web.call import ClientAddress
from tests.support.alert_steps import is_json_error, settle
from tests.support.nodes import auth, node_settings
from tests.support.steps import join, live_room
from tests.support.wsclient import TestSocket

HOST = auth("CH1", "H1", permissions=["Content__Edit"])
Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_from(node: Node) -> AsyncIterator[Client]:
    """``client_from("127.0.0.2")``: an HTTP client whose requests come from that address."""
    opened: list[httpx.AsyncClient] = []

    def make(address: str, **headers: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        client = httpx.AsyncClient(
            base_url=node.http_url + "/messaging", timeout=10, transport=transport, headers=headers
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def say(client: httpx.AsyncClient, room: dict[str, Any], text: str) -> httpx.Response:
    return await client.post(
        "/messages/send",
        json=[
            {
                "churchId": room["churchId"],
                "conversationId": room["id"],
                "content": text,
                "displayName": "Viewer",
            }
        ],
    )


async def toggle(http: httpx.AsyncClient, room: dict[str, Any], pseudonym: str) -> httpx.Response:
    return await http.post(
        "/blockedIps",
        headers=HOST,
        json=[{"conversationId": room["id"], "serviceId": "svc1", "ipAddress": pseudonym}],
    )


async def pseudonym_of(
    http: httpx.AsyncClient, socket: TestSocket, room: dict[str, Any], name: str
) -> str:
    """The address pseudonym the room's attendance shows for ``name``."""
    await join(http, socket, room, name)
    frame = await socket.next(
        "attendance", lambda f: any(v["displayName"] == name for v in f["data"]["viewers"])
    )
    return next(str(v["ipAddress"]) for v in frame["data"]["viewers"] if v["displayName"] == name)


async def test_a_blocked_address_cannot_post_while_others_can(
    http: httpx.AsyncClient, sockets: Any, client_from: Client
) -> None:
    room = await live_room(http)
    troll, friend = client_from("127.0.0.2"), client_from("127.0.0.3")
    watcher = await sockets()
    blocked = await pseudonym_of(troll, watcher, room, "Troll")
    assert blocked.startswith("ip-") and "127.0.0" not in blocked
    await watcher.next("blockedIp", lambda f: f["data"] == [])

    response = await toggle(http, room, blocked)
    assert response.status_code == 200
    assert response.json()[0]["blocked"] is True and response.json()[0]["ipAddress"] == blocked
    assert (await watcher.next("blockedIp"))["data"] == [blocked]
    refused = await say(troll, room, "spam")
    assert refused.status_code == 403 and "blocked" in refused.json()["error"]
    assert (await say(friend, room, "hello")).status_code == 200
    assert (await say(troll, room, "spam again")).status_code == 403
    host_same_address = await client_from("127.0.0.2").post(
        "/messages/send",
        headers=HOST,
        json=[{"churchId": "CH1", "conversationId": room["id"], "content": "host here"}],
    )
    assert host_same_address.status_code == 200

    late = await sockets()
    await join(http, late, room, "Late")
    assert (await late.next("blockedIp"))["data"] == [blocked]

    assert (await watcher.next("blockedIp"))["data"] == [blocked]  # the late join's
    response = await toggle(http, room, blocked)
    assert response.json()[0]["blocked"] is False
    assert (await watcher.next("blockedIp"))["data"] == []
    assert (await say(troll, room, "sorry")).status_code == 200
    messages = await http.get(f"/messages/catchup/CH1/{room['id']}")
    assert [m["content"] for m in messages.json()] == ["hello", "host here", "sorry"]


async def test_clear_lifts_every_block_of_a_service(
    http: httpx.AsyncClient, sockets: Any, client_from: Client
) -> None:
    room = await live_room(http)
    watcher = await sockets()
    troll = client_from("127.0.0.4")
    blocked = await pseudonym_of(troll, watcher, room, "Troll")
    await toggle(http, room, blocked)
    await watcher.next("blockedIp", lambda f: f["data"] == [blocked])
    other = await http.post("/blockedIps/clear", json=[{"serviceId": "svc9"}], headers=HOST)
    assert other.status_code == 200 and other.json() == {}
    assert (await say(troll, room, "still blocked")).status_code == 403
    cleared = await http.post("/blockedIps/clear", json=[{"serviceId": "svc1"}], headers=HOST)
    assert cleared.status_code == 200 and cleared.json() == {}
    assert (await watcher.next("blockedIp"))["data"] == []
    assert (await say(troll, room, "back")).status_code == 200


async def test_callout_is_sent_and_not_stored(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    viewer = await sockets()
    await join(http, viewer, room, "Viewer")
    callout = {"conversationId": room["id"], "content": "Give online", "churchId": "CH9"}
    response = await http.post("/messages/setCallout", json=callout, headers=HOST)
    assert response.status_code == 200
    assert response.json() == {**callout, "churchId": "CH1"}
    frame = await viewer.next("callout")
    assert frame["conversationId"] == room["id"] and frame["data"]["content"] == "Give online"
    assert (await http.get(f"/messages/catchup/CH1/{room['id']}")).json() == []


async def test_bad_input_is_a_4xx_with_json(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    good = {"conversationId": room["id"], "serviceId": "svc1", "ipAddress": "ip-abc"}
    viewer = auth("CH1", "P1")
    cases = [
        (await http.post("/blockedIps", json=[good]), 401),
        (await http.post("/blockedIps", json=[good], headers=viewer), 401),
        (await http.post("/blockedIps", json=good, headers=HOST), 400),
        (
            await http.post("/blockedIps", json=[{**good, "ipAddress": "10.1.2.3"}], headers=HOST),
            400,
        ),
        (
            await http.post(
                "/blockedIps", json=[{**good, "ipAddress": "ip-" + "a" * 50}], headers=HOST
            ),
            400,
        ),
        (await http.post("/blockedIps", json=[{**good, "ipAddress": None}], headers=HOST), 400),
        (await http.post("/blockedIps", json=[{**good, "conversationId": ""}], headers=HOST), 400),
        (await http.post("/blockedIps", json=[{**good, "serviceId": "s/1"}], headers=HOST), 400),
        (
            await http.post(
                "/blockedIps", json=[{**good, "conversationId": "nosuchconv"}], headers=HOST
            ),
            404,
        ),
        (await http.post("/blockedIps/clear", json=[{"serviceId": "svc1"}]), 401),
        (await http.post("/blockedIps/clear", json={"serviceId": "svc1"}, headers=HOST), 400),
        (await http.post("/blockedIps/clear", json=[{}], headers=HOST), 400),
        (await http.post("/blockedIps/clear", json=[{"serviceId": ["x"]}], headers=HOST), 400),
        (
            await http.post(
                "/messages/setCallout", json={"conversationId": room["id"]}, headers=viewer
            ),
            401,
        ),
        (await http.post("/messages/setCallout", json=[], headers=HOST), 400),
        (await http.post("/messages/setCallout", json={"content": "x"}, headers=HOST), 400),
        (
            await http.post(
                "/messages/setCallout",
                json={"conversationId": room["id"], "content": 3},
                headers=HOST,
            ),
            400,
        ),
        (
            await http.post(
                "/messages/setCallout", json={"conversationId": "nosuchconv"}, headers=HOST
            ),
            404,
        ),
    ]
    for response, status in cases:
        assert is_json_error(response, status), (response.request.url, response.text)
    # The failed batches wrote nothing: a new joiner sees no blocks.
    late = await sockets()
    await join(http, late, room, "Late")
    assert (await late.next("blockedIp"))["data"] == []
    await settle(late)
    assert late.pending("callout") == []


# --- the client address ---------------------------------------------------------------


def test_forwarded_for_counts_only_from_trusted_proxies() -> None:
    address = ClientAddress(("10.0.0.0/8", "127.0.0.1"))
    assert address("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert address("192.0.2.1", "203.0.113.7") == "192.0.2.1"  # peer is not a proxy
    assert address("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.1.1") == "203.0.113.7"
    assert address("127.0.0.1", "10.2.2.2, 10.1.1.1") == "10.2.2.2"  # all trusted
    assert address("127.0.0.1", None) == "127.0.0.1"
    assert address("127.0.0.1", " , ") == "127.0.0.1"
    assert ClientAddress(())("127.0.0.1", "203.0.113.7") == "127.0.0.1"


async def test_trusted_proxy_forwarded_addresses_are_pseudonymised_and_blockable(
    tmp_path: Path,
) -> None:
    settings = node_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}", trusted_proxies=("127.0.0.1",)
    )
    node = Node(settings)
    await node.start()
    try:
        async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
            room = await live_room(http)
            socket = await TestSocket.connect(node.socket_url)
            forwarded = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}
            rows = (
                await http.post(
                    "/connections",
                    headers=forwarded,
                    json=[
                        {
                            "churchId": "CH1",
                            "conversationId": room["id"],
                            "socketId": socket.socket_id,
                        }
                    ],
                )
            ).json()
            expected = node.ctx.pseudonyms("CH1", "203.0.113.7")
            assert rows[0]["ipAddress"] == expected
            assert expected != node.ctx.pseudonyms("CH2", "203.0.113.7")
            await toggle(http, room, expected)
            body = [{"churchId": "CH1", "conversationId": room["id"], "content": "x"}]
            spoofed = {"X-Forwarded-For": "203.0.113.8, 203.0.113.7"}
            refused = await http.post("/messages/send", json=body, headers=spoofed)
            assert refused.status_code == 403
            other = {"X-Forwarded-For": "203.0.113.7, 198.51.100.1"}
            assert (await http.post("/messages/send", json=body, headers=other)).status_code == 200
            await socket.close()
    finally:
        await node.stop()


async def test_forwarded_for_is_ignored_without_trusted_proxies(
    http: httpx.AsyncClient, node: Node, sockets: Any
) -> None:
    room = await live_room(http)
    socket = await sockets()
    rows = (
        await http.post(
            "/connections",
            headers={"X-Forwarded-For": "203.0.113.7"},
            json=[{"churchId": "CH1", "conversationId": room["id"], "socketId": socket.socket_id}],
        )
    ).json()
    assert rows[0]["ipAddress"] == node.ctx.pseudonyms("CH1", "127.0.0.1")


def test_a_bad_trusted_proxy_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        ClientAddress(("127.0.0.1", "not-an-address"))
