"""Rate limits over real HTTP and sockets (PROTOCOL.md 5.6).

Each limit answers 429 with the limit named in a JSON body and ``Retry-After``, and
writes nothing; clients bound to different loopback addresses are different
addresses, so "a flood from one address is held while another still posts" is what
happens on the wire. The node runs on a :class:`~tests.clocks.DrivenClock`: buckets
refill when the test moves time, never by waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.node import Node
from steeple.settings import OFF, Rate
from tests.support.clocks import DrivenClock
from tests.support.nodes import auth, node_settings
from tests.support.rawsocket import RawSocket
from tests.support.steps import AnySocket, entry
from tests.support.wsclient import TestSocket

HOST = auth("CH1", "H1", permissions=["Chat__Host"])
MEMBER = auth("CH1", "P1", group_ids=["G1"])
OTHER_MEMBER = auth("CH1", "P2", group_ids=["G1"])

Client = Callable[[str], Awaitable[httpx.AsyncClient]]
Start = Callable[..., Awaitable[Node]]


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def start(tmp_path: Path, clock: DrivenClock) -> AsyncIterator[Start]:
    """``await start(post_address=Rate(1, 3))``: a node with those limits, others default."""
    nodes: list[Node] = []

    async def make(**limits: Any) -> Node:
        settings = node_settings(f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}", **limits)
        node = Node(settings, clock=clock)
        await node.start()
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.stop()


@pytest.fixture
async def node(start: Start) -> Node:
    return await start()


@pytest.fixture
async def client_at(node: Node) -> AsyncIterator[Client]:
    """``await client_at("127.0.0.2")``: an HTTP client whose requests come from there."""
    made: list[httpx.AsyncClient] = []

    async def make(address: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        client = httpx.AsyncClient(
            base_url=node.http_url + "/messaging", transport=transport, timeout=30
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def sockets(node: Node) -> AsyncIterator[Callable[[], Awaitable[TestSocket]]]:
    opened: list[TestSocket] = []

    async def open_socket() -> TestSocket:
        socket = await TestSocket.connect(node.socket_url)
        opened.append(socket)
        return socket

    yield open_socket
    await asyncio.gather(*(socket.close() for socket in opened))


async def live_room(http: httpx.AsyncClient, service: str = "svc1") -> dict[str, Any]:
    response = await http.get(f"/conversations/current/CH1/streamingLive/{service}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def group_room(http: httpx.AsyncClient) -> dict[str, Any]:
    body = [{"contentType": "group", "contentId": "G1", "groupId": "G1", "title": "G1"}]
    response = await http.post("/conversations", json=body, headers=MEMBER)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


async def send(
    http: httpx.AsyncClient,
    room: dict[str, Any],
    content: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = [
        {
            "churchId": room["churchId"],
            "conversationId": room["id"],
            "content": content,
            "displayName": "Viewer",
        }
    ]
    return await http.post("/messages/send", json=body, headers=headers)


async def stored(node: Node, room: dict[str, Any]) -> list[str]:
    """The room's messages as the database holds them."""
    return [m["content"] for m in await node.store.messages.newest(room["id"], 10_000)]


def assert_limited(response: httpx.Response, limit: str, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(retry_after)
    body = response.json()
    assert body["limit"] == limit and body["retryAfter"] == retry_after
    assert limit in body["error"] and body["error"].startswith("too many")


async def refused(node: Node, limit: str, room_kind: str) -> float:
    """``steeple_rate_limited_total`` for that limit and kind, read from ``/metrics``."""
    async with httpx.AsyncClient(base_url=node.http_url) as http:
        text = (await http.get("/metrics")).text
    wanted = f'steeple_rate_limited_total{{limit="{limit}",room_kind="{room_kind}"}} '
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line.removeprefix(wanted))
    return 0.0


def from_address(node: Node, address: str) -> httpx.AsyncClient:
    """An HTTP client of the node whose requests leave from ``address`` (any of 127/8)."""
    return httpx.AsyncClient(
        base_url=node.http_url + "/messaging",
        transport=httpx.AsyncHTTPTransport(local_address=address),
    )


# --- posting ---------------------------------------------------------------------------


async def test_a_flood_from_one_address_is_held_while_another_address_still_posts(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(post_address=Rate(1, 3))
    flood = from_address(node, "127.0.0.2")
    other = from_address(node, "127.0.0.3")
    async with flood, other:
        room = await live_room(flood)
        for n in range(3):
            assert (await send(flood, room, f"flood {n}")).status_code == 200
        for n in range(3, 6):
            assert_limited(await send(flood, room, f"flood {n}"), "post_address", 1)
        assert (await send(other, room, "still here")).status_code == 200
        assert await stored(node, room) == ["flood 0", "flood 1", "flood 2", "still here"]
        assert await refused(node, "post_address", "streamingLive") == 3

        clock.advance(1)  # one token back
        assert (await send(flood, room, "a second later")).status_code == 200
        assert_limited(await send(flood, room, "again"), "post_address", 1)
    assert (await stored(node, room))[-1] == "a second later"


async def test_a_signed_in_person_is_limited_as_a_person_not_as_an_address(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(post_person=Rate(0.5, 2))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await group_room(http)
        body = [{"conversationId": room["id"], "content": "x"}]
        for _ in range(2):
            assert (await http.post("/messages", json=body, headers=MEMBER)).status_code == 200
        assert_limited(await http.post("/messages", json=body, headers=MEMBER), "post_person", 2)
        # The same address, another person: a fresh bucket.
        assert (await http.post("/messages", json=body, headers=OTHER_MEMBER)).status_code == 200
        # /messages/send as the same person shares the person's bucket.
        assert_limited(await send(http, room, "y", MEMBER), "post_person", 2)
        assert len(await stored(node, room)) == 3
        assert await refused(node, "post_person", "group") == 2
        clock.advance(2)
        assert (await http.post("/messages", json=body, headers=MEMBER)).status_code == 200


async def test_a_room_is_limited_across_addresses_and_its_hosts_are_exempt(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(post_room=Rate(1, 4), post_person=Rate(10, 10))
    clients = [from_address(node, f"127.0.0.{n}") for n in range(2, 7)]
    try:
        room = await live_room(clients[0])
        for n, http in enumerate(clients[:4]):
            assert (await send(http, room, f"from {n}")).status_code == 200
        # A fifth address has its own allowance left, but the room has none.
        assert_limited(await send(clients[4], room, "one too many"), "post_room", 1)
        assert (await send(clients[4], room, "host speaks", HOST)).status_code == 200
        assert await stored(node, room) == ["from 0", "from 1", "from 2", "from 3", "host speaks"]
        assert await refused(node, "post_room", "streamingLive") == 1
    finally:
        for http in clients:
            await http.aclose()


async def test_a_refused_post_spends_no_token_of_the_other_bucket(
    start: Start, clock: DrivenClock
) -> None:
    """The caller's and the room's buckets are charged together or not at all."""
    node = await start(post_room=Rate(1, 2), post_address=Rate(1, 3))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        first, second = await live_room(http, "svc1"), await live_room(http, "svc2")
        assert (await send(http, first, "1")).status_code == 200
        assert (await send(http, first, "2")).status_code == 200
        for _ in range(5):
            assert_limited(await send(http, first, "full room"), "post_room", 1)
        # The address spent 2 of its 3, whatever the refused posts tried.
        assert (await send(http, second, "3")).status_code == 200
        assert_limited(await send(http, second, "4"), "post_address", 1)


async def test_an_anonymous_send_holds_one_message(node: Node, client_at: Client) -> None:
    http = await client_at("127.0.0.2")
    room = await live_room(http)
    one = {"churchId": "CH1", "conversationId": room["id"], "content": "a", "displayName": "V"}
    response = await http.post("/messages/send", json=[one, {**one, "content": "b"}])
    assert response.status_code == 400, response.text
    assert "at most 1 message" in response.json()["error"]
    assert await stored(node, room) == []
    # A signed-in caller may still batch (each message is charged).
    response = await http.post("/messages/send", json=[one, one], headers=HOST)
    assert response.status_code == 200, response.text


async def test_a_new_conversation_with_its_first_post_is_refused_whole(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(post_person=Rate(0.1, 1))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await group_room(http)
        body = [{"conversationId": room["id"], "content": "spends the token"}]
        assert (await http.post("/messages", json=body, headers=MEMBER)).status_code == 200
        start_body = {
            "groupId": "G1",
            "contentType": "group",
            "contentId": "G1",
            "title": "new",
            "comment": "first",
        }
        response = await http.post("/conversations/start", json=start_body, headers=MEMBER)
        assert_limited(response, "post_person", 10)
        assert len(await node.store.conversations.for_content("CH1", "group", "G1")) == 1


# --- joining ---------------------------------------------------------------------------


async def test_edits_spend_the_posting_allowance(start: Start, clock: DrivenClock) -> None:
    """An edit is a new frame to the whole room, so it is charged as a post."""
    node = await start(post_person=Rate(0.5, 3))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await group_room(http)
        posted = await http.post(
            "/messages", json=[{"conversationId": room["id"], "content": "v0"}], headers=MEMBER
        )
        message_id = posted.json()[0]["id"]

        def edit(content: str) -> Any:
            body = [{"id": message_id, "conversationId": room["id"], "content": content}]
            return http.post("/messages", json=body, headers=MEMBER)

        for version in ("v1", "v2"):
            assert (await edit(version)).status_code == 200
        assert_limited(await edit("v3"), "post_person", 2)
        assert await stored(node, room) == ["v2"]
        assert await refused(node, "post_person", "group") == 1
        clock.advance(2)
        assert (await edit("v3")).status_code == 200
        assert await stored(node, room) == ["v3"]


async def reactions_on(node: Node, message_id: str) -> int:
    summary = await node.store.reactions.summary([message_id], None)
    return sum(entry["count"] for entry in summary.get(message_id, []))


async def test_reactions_are_limited_per_person_and_per_room(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(react_person=Rate(0.5, 2), react_room=Rate(1, 3))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await group_room(http)
        posted = await http.post(
            "/messages", json=[{"conversationId": room["id"], "content": "hi"}], headers=MEMBER
        )
        path = f"/messages/{posted.json()[0]['id']}/reactions"

        async def react(emoji: str, who: dict[str, str]) -> httpx.Response:
            return await http.post(path, json={"emoji": emoji}, headers=who)

        for emoji in ("a", "b"):
            assert (await react(emoji, MEMBER)).status_code == 200
        assert_limited(await react("c", MEMBER), "react_person", 2)
        assert (await react("a", OTHER_MEMBER)).status_code == 200  # the room's third
        assert_limited(await react("b", OTHER_MEMBER), "react_room", 1)
        assert await reactions_on(node, posted.json()[0]["id"]) == 3
        assert await refused(node, "react_person", "group") == 1
        assert await refused(node, "react_room", "group") == 1
        clock.advance(2)
        assert (await react("c", MEMBER)).status_code == 200


async def test_renames_are_limited_per_address(start: Start, clock: DrivenClock) -> None:
    node = await start(rename_address=Rate(1, 2))
    flood = from_address(node, "127.0.0.2")
    other = from_address(node, "127.0.0.3")
    async with flood, other:
        room = await live_room(flood)
        socket = await TestSocket.connect(node.socket_url)
        try:
            assert (await flood.post("/connections", json=[entry(socket, room)])).status_code == 200

            def rename(http: httpx.AsyncClient, name: str) -> Any:
                return http.post(
                    "/connections/setName", json={"socketId": socket.socket_id, "name": name}
                )

            for name in ("Ann", "Bea"):
                assert (await rename(flood, name)).status_code == 200
            assert_limited(await rename(flood, "Cat"), "rename_address", 1)
            shown = await node.store.connections.in_room((room["churchId"], room["id"]))
            assert [row["displayName"] for row in shown] == ["Bea"]
            assert await refused(node, "rename_address", "other") == 1
            assert (await rename(other, "Dee")).status_code == 200  # another address
            clock.advance(1)
            assert (await rename(flood, "Eve")).status_code == 200
        finally:
            await socket.close()


async def rows_in(node: Node, room: dict[str, Any]) -> int:
    return len(await node.store.connections.in_room((room["churchId"], room["id"])))


async def test_joins_are_counted_per_row_and_limited_per_address(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(join_address=Rate(1, 3))
    flood = from_address(node, "127.0.0.2")
    other = from_address(node, "127.0.0.3")
    async with flood, other:
        room = await live_room(flood)
        opened = [await TestSocket.connect(node.socket_url) for _ in range(5)]
        try:
            batch = [entry(s, room) for s in opened[:2]]
            assert (await flood.post("/connections", json=batch)).status_code == 200
            two_more = [entry(s, room) for s in opened[2:4]]  # 2 rows, 1 token left
            assert_limited(await flood.post("/connections", json=two_more), "join_address", 1)
            assert await rows_in(node, room) == 2
            assert await refused(node, "join_address", "streamingLive") == 1
            ok = await other.post("/connections", json=[entry(opened[4], room)])
            assert ok.status_code == 200, ok.text
            assert await rows_in(node, room) == 3
            clock.advance(1)
            response = await flood.post("/connections", json=two_more)
            assert response.status_code == 200, response.text
        finally:
            await asyncio.gather(*(s.close() for s in opened))


async def test_an_anonymous_join_batch_holds_a_few_rows(node: Node, client_at: Client) -> None:
    http = await client_at("127.0.0.2")
    room = await live_room(http)
    socket = await TestSocket.connect(node.socket_url)
    try:
        rooms = [await live_room(http, f"s{n}") for n in range(6)]
        batch = [entry(socket, r) for r in rooms]
        response = await http.post("/connections", json=batch)
        assert response.status_code == 400, response.text
        assert "at most 5 joins" in response.json()["error"]
        assert await rows_in(node, room) == 0
        assert (await http.post("/connections", json=batch[:5])).status_code == 200
    finally:
        await socket.close()


async def test_a_signed_in_batch_larger_than_the_burst_is_a_400(start: Start) -> None:
    node = await start(join_person=Rate(1, 2))
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await live_room(http)
        socket = await TestSocket.connect(node.socket_url)
        try:
            batch = [entry(socket, room)] * 3
            response = await http.post("/connections", json=batch, headers=MEMBER)
            assert response.status_code == 400, response.text
            assert "join_person" in response.json()["error"]
            assert await rows_in(node, room) == 0
        finally:
            await socket.close()


async def test_a_room_limits_joins_from_every_address(start: Start, clock: DrivenClock) -> None:
    node = await start(join_room=Rate(1, 2))
    clients = [from_address(node, f"127.0.0.{n}") for n in (2, 3, 4)]
    opened = [await TestSocket.connect(node.socket_url) for _ in range(3)]
    try:
        room = await live_room(clients[0])
        for http, socket in zip(clients[:2], opened, strict=False):
            assert (await http.post("/connections", json=[entry(socket, room)])).status_code == 200
        response = await clients[2].post("/connections", json=[entry(opened[2], room)])
        assert_limited(response, "join_room", 1)
        assert await rows_in(node, room) == 2
        assert await refused(node, "join_room", "streamingLive") == 1
    finally:
        await asyncio.gather(*(s.close() for s in opened))
        for http in clients:
            await http.aclose()


# --- creating rooms --------------------------------------------------------------------


async def test_lazy_room_creation_is_limited_per_address_across_invented_churches(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(create_address=Rate(0.1, 3))
    troll = from_address(node, "127.0.0.2")
    viewer = from_address(node, "127.0.0.3")
    async with troll, viewer:
        for n in range(3):
            response = await troll.get(f"/conversations/current/FAKE{n}/streamingLive/s")
            assert response.status_code == 200, response.text
        response = await troll.get("/conversations/current/FAKE9/streamingLive/s")
        assert_limited(response, "create_address", 10)
        assert await node.store.conversations.for_content("FAKE9", "streamingLive", "s") == []
        assert await refused(node, "create_address", "streamingLive") == 1
        # Finding a room that exists creates nothing and is never limited.
        again = await troll.get("/conversations/current/FAKE0/streamingLive/s")
        assert again.status_code == 200, again.text
        # Another address creates its church's room.
        assert (await viewer.get("/conversations/current/CH1/streamingLive/s")).status_code == 200
        clock.advance(10)
        response = await troll.get("/conversations/current/FAKE9/streamingLive/s")
        assert response.status_code == 200, response.text


async def test_posted_conversations_are_limited_per_person_and_per_church(
    start: Start, clock: DrivenClock
) -> None:
    node = await start(create_person=Rate(0.1, 3), create_church=Rate(0.1, 4))

    def body(count: int, content: str) -> list[dict[str, Any]]:
        return [
            {"contentType": "group", "contentId": "G1", "groupId": "G1", "title": content}
        ] * count

    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        assert (await http.post("/conversations", json=body(2, "a"), headers=MEMBER)).is_success
        response = await http.post("/conversations", json=body(2, "b"), headers=MEMBER)
        assert_limited(response, "create_person", 10)
        response = await http.post("/conversations", json=body(4, "c"), headers=MEMBER)
        assert response.status_code == 400 and "create_person" in response.json()["error"]
        assert (
            await http.post("/conversations", json=body(2, "d"), headers=OTHER_MEMBER)
        ).is_success
        response = await http.post(
            "/conversations", json=body(1, "e"), headers=auth("CH1", "P3", group_ids=["G1"])
        )
        assert_limited(response, "create_church", 10)
        titles = [
            c["title"] for c in await node.store.conversations.for_content("CH1", "group", "G1")
        ]
        assert sorted(titles) == ["a", "a", "d", "d"]
        assert await refused(node, "create_church", "group") == 1


async def test_zero_turns_a_limit_off(start: Start) -> None:
    node = await start(post_address=OFF, post_room=OFF)
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        room = await live_room(http)
        for n in range(150):
            assert (await send(http, room, str(n))).status_code == 200
        assert len(await stored(node, room)) == 150


# --- the congregation --------------------------------------------------------------------


async def test_a_congregation_on_one_address_joins_and_chats_without_a_429(
    node: Node, client_at: Client, clock: DrivenClock, sockets: Any
) -> None:
    """300 viewers behind one church Wi-Fi address, default limits: they all arrive
    within 20 s (15 a second), then each says something once in the next minute (5
    posts a second, evenly). Not one request is refused, and a viewer sees it all."""
    wifi = await client_at("127.0.0.5")
    room = await live_room(wifi)
    watcher = await sockets()
    # The others never read (the test stays cheap; the server must not care).
    others = await asyncio.gather(*(RawSocket.connect(node.socket_url) for _ in range(299)))
    try:
        await asyncio.gather(*(other.get_id() for other in others))
        viewers: list[AnySocket] = [watcher, *others]
        statuses: list[int] = []
        for second in range(20):
            arriving = viewers[second * 15 : (second + 1) * 15]
            answers = await asyncio.gather(
                *(wifi.post("/connections", json=[entry(v, room, "Guest")]) for v in arriving)
            )
            statuses += [a.status_code for a in answers]
            clock.advance(1)
        for second in range(60):
            answers = await asyncio.gather(
                *(send(wifi, room, f"hello {second}.{n}") for n in range(5))
            )
            statuses += [a.status_code for a in answers]
            clock.advance(1)
        assert statuses == [200] * 600
        for _ in range(300):
            await watcher.next("message")
        assert await rows_in(node, room) == 300
        assert len(await stored(node, room)) == 300
        assert await refused(node, "post_address", "streamingLive") == 0
    finally:
        for other in others:
            other.abort()
