"""Slow mode over real HTTP and sockets: hosts set it, the room hears it, posts wait.

The node runs on a :class:`~tests.clocks.DrivenClock`, so "ten seconds later" is a
call, not a sleep; viewers on different addresses are clients bound to different
loopback addresses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.node import Node
from steeple.services.post_ledger import LocalLedger, RedisLedger
from tests.support.client_tools import free_port
from tests.support.clocks import DrivenClock
from tests.support.nodes import auth, node_settings
from tests.support.steps import join, live_room

HOST = auth("CH1", "H1", permissions=["Chat__Host"])
EDITOR = auth("CH1", "E1", permissions=["Content__Edit"])
MEMBER = auth("CH1", "P1")
OTHER_MEMBER = auth("CH1", "P2")
HOST_ELSEWHERE = auth("CH2", "H2", permissions=["Chat__Host", "Content__Edit"])

Client = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def node(tmp_path: Path, clock: DrivenClock) -> AsyncIterator[Node]:
    running = Node(node_settings(f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"), clock=clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def client_at(node: Node) -> AsyncIterator[Client]:
    """``await client_at("127.0.0.2")``: an HTTP client whose requests come from there."""
    made: list[httpx.AsyncClient] = []

    async def make(address: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        client = httpx.AsyncClient(
            base_url=node.http_url + "/messaging", transport=transport, timeout=10
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def settings_url(room: dict[str, Any]) -> str:
    return f"/conversations/{room['churchId']}/{room['id']}/settings"


async def set_slow_mode(
    http: httpx.AsyncClient, room: dict[str, Any], seconds: int, headers: dict[str, str] = HOST
) -> None:
    response = await http.post(
        settings_url(room), json={"slowModeSeconds": seconds}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"conversationId": room["id"], "slowModeSeconds": seconds}


async def post(
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


async def contents(http: httpx.AsyncClient, room: dict[str, Any]) -> list[str]:
    response = await http.get(f"/messages/catchup/{room['churchId']}/{room['id']}")
    return [m["content"] for m in response.json()]


def assert_slowed(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(retry_after)
    body = response.json()
    assert body["limit"] == "slowMode" and body["retryAfter"] == retry_after
    assert "slow mode" in body["error"]


async def test_a_host_sets_slow_mode_the_room_hears_it_and_the_conversation_reports_it(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    assert room["slowModeSeconds"] == 0
    viewer = await sockets()
    await join(http, viewer, room, "Viewer")

    await set_slow_mode(http, room, 10)
    frame = await viewer.next("roomSettings")
    assert frame == {
        "churchId": "CH1",
        "conversationId": room["id"],
        "action": "roomSettings",
        "data": {"slowModeSeconds": 10},
    }
    assert (await live_room(http))["slowModeSeconds"] == 10
    one = (await http.get(f"/conversations/CH1/{room['id']}")).json()
    assert (one["id"], one["slowModeSeconds"]) == (room["id"], 10)
    read = await http.get(settings_url(room))  # anonymous readers of the room may look
    assert read.json() == {"conversationId": room["id"], "slowModeSeconds": 10}

    await set_slow_mode(http, room, 0, EDITOR)  # Content__Edit may too; 0 is off
    assert (await viewer.next("roomSettings"))["data"] == {"slowModeSeconds": 0}
    assert (await live_room(http))["slowModeSeconds"] == 0


@pytest.mark.parametrize(
    "headers", [{}, MEMBER, HOST_ELSEWHERE], ids=["anonymous", "member", "host-of-another-church"]
)
async def test_only_a_host_of_the_church_may_set_it(
    http: httpx.AsyncClient, sockets: Any, headers: dict[str, str]
) -> None:
    room = await live_room(http)
    viewer = await sockets()
    await join(http, viewer, room)
    denied = await http.post(settings_url(room), json={"slowModeSeconds": 30}, headers=headers)
    assert (denied.status_code, denied.json()) == (401, {})
    garbage = await http.post(settings_url(room), json={"slowModeSeconds": -5}, headers=headers)
    assert garbage.status_code == 401  # a non-host learns nothing about valid values
    assert (await http.get(settings_url(room))).json()["slowModeSeconds"] == 0
    await set_slow_mode(http, room, 5)  # the frame that follows is the first one
    assert (await viewer.next("roomSettings"))["data"] == {"slowModeSeconds": 5}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"slowModeSeconds": -1}, "between 0 (off) and 3600"),
        ({"slowModeSeconds": 3601}, "between 0 (off) and 3600"),
        ({"slowModeSeconds": "10"}, "whole number"),
        ({"slowModeSeconds": 2.5}, "whole number"),
        ({"slowModeSeconds": True}, "whole number"),
        ({"slowModeSeconds": None}, "is required"),
        ({}, "is required"),
        ([{"slowModeSeconds": 10}], "JSON object"),
    ],
)
async def test_bad_values_are_400s_naming_the_problem(
    http: httpx.AsyncClient, body: Any, problem: str
) -> None:
    room = await live_room(http)
    response = await http.post(settings_url(room), json=body, headers=HOST)
    assert response.status_code == 400, response.text
    assert problem in response.json()["error"]
    assert (await http.get(settings_url(room))).json()["slowModeSeconds"] == 0


async def test_settings_of_an_unknown_or_foreign_conversation(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    missing = await http.post(
        "/conversations/CH1/nosuchroom1/settings", json={"slowModeSeconds": 5}, headers=HOST
    )
    assert missing.status_code == 404
    foreign = await http.post(
        f"/conversations/CH2/{room['id']}/settings", json={"slowModeSeconds": 5}, headers=HOST
    )
    assert foreign.status_code == 401  # this host is not a host of CH2
    assert (await http.get("/conversations/CH1/nosuchroom1/settings")).status_code == 404
    malformed = await http.get("/conversations/CH1/not%20an%20id/settings")
    assert malformed.status_code == 400


async def test_each_anonymous_address_waits_its_own_turn(
    http: httpx.AsyncClient, client_at: Client, clock: DrivenClock, sockets: Any
) -> None:
    room = await live_room(http)
    listener = await sockets()
    await join(http, listener, room)
    await set_slow_mode(http, room, 10)
    ann, bob = await client_at("127.0.0.2"), await client_at("127.0.0.3")

    assert (await post(ann, room, "ann 1")).status_code == 200
    assert_slowed(await post(ann, room, "ann too soon"), 10)
    assert (await post(bob, room, "bob 1")).status_code == 200  # another address
    clock.advance(4)
    assert_slowed(await post(ann, room, "ann still too soon"), 6)
    clock.advance(6)
    assert (await post(ann, room, "ann 2")).status_code == 200

    assert await contents(http, room) == ["ann 1", "bob 1", "ann 2"]  # refusals wrote nothing
    for expected in ("ann 1", "bob 1", "ann 2"):
        frame = await listener.next("message")
        assert frame["data"]["content"] == expected
    assert listener.pending("message") == []


async def test_signed_in_viewers_wait_per_person_and_hosts_never_wait(
    client_at: Client, http: httpx.AsyncClient, clock: DrivenClock
) -> None:
    room = await live_room(http)
    await set_slow_mode(http, room, 30)
    same_address = await client_at("127.0.0.4")
    assert (await post(same_address, room, "p1", MEMBER)).status_code == 200
    assert (await post(same_address, room, "p2", OTHER_MEMBER)).status_code == 200
    assert (await post(same_address, room, "anonymous")).status_code == 200
    assert_slowed(await post(same_address, room, "p1 again", MEMBER), 30)
    for turn in range(3):
        assert (await post(same_address, room, f"host {turn}", HOST)).status_code == 200
        assert (await post(same_address, room, f"editor {turn}", EDITOR)).status_code == 200
    clock.advance(29.5)
    assert_slowed(await post(same_address, room, "p1 almost", MEMBER), 1)  # rounded up
    clock.advance(0.5)
    assert (await post(same_address, room, "p1 again", MEMBER)).status_code == 200


async def test_turning_slow_mode_off_or_shorter_applies_at_once(
    http: httpx.AsyncClient, client_at: Client, clock: DrivenClock
) -> None:
    room = await live_room(http)
    viewer = await client_at("127.0.0.5")
    await set_slow_mode(http, room, 60)
    assert (await post(viewer, room, "one")).status_code == 200
    assert_slowed(await post(viewer, room, "two"), 60)
    await set_slow_mode(http, room, 5)
    assert_slowed(await post(viewer, room, "two"), 5)  # counted from the last post
    await set_slow_mode(http, room, 0)
    for n in range(3):
        assert (await post(viewer, room, f"free {n}")).status_code == 200
    assert await contents(http, room) == ["one", "free 0", "free 1", "free 2"]


async def test_a_batch_over_slow_mode_is_refused_whole(
    http: httpx.AsyncClient, client_at: Client
) -> None:
    room = await live_room(http)
    await set_slow_mode(http, room, 10)
    viewer = await client_at("127.0.0.6")
    entry = {"churchId": "CH1", "conversationId": room["id"], "displayName": "V"}
    batch = [{**entry, "content": "first"}, {**entry, "content": "second"}]
    response = await viewer.post("/messages/send", json=batch, headers=MEMBER)
    assert_slowed(response, 10)
    assert await contents(http, room) == []


async def test_authenticated_posts_are_slowed_too(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    await set_slow_mode(http, room, 10)
    body = [{"conversationId": room["id"], "content": "hello"}]
    assert (await http.post("/messages", json=body, headers=MEMBER)).status_code == 200
    assert_slowed(await http.post("/messages", json=body, headers=MEMBER), 10)
    assert await contents(http, room) == ["hello"]


async def test_the_local_ledger_forgets_old_posts_and_stays_bounded() -> None:
    ledger = LocalLedger(capacity=100)
    for n in range(50):
        assert await ledger.claim(f"early{n}", 0, 1_000) == 0
    assert await ledger.claim("early0", 500, 1_000) == 500
    for n in range(500):
        assert await ledger.claim(f"late{n}", 10_000 + n, 60_000) == 0
    assert len(ledger) <= 100  # the early ones expired, the oldest late ones were dropped
    assert await ledger.claim("late499", 10_600, 60_000) > 0


async def test_the_redis_ledger_falls_back_to_memory_while_redis_is_away() -> None:
    ledger = RedisLedger(f"redis://127.0.0.1:{free_port()}/0", "steeple-test-nothing")
    try:
        assert await ledger.claim("room|viewer", 0, 10_000) == 0
        assert await ledger.claim("room|viewer", 1_000, 10_000) == 9_000
        assert await ledger.claim("room|viewer", 10_000, 10_000) == 0
    finally:
        await ledger.close()
