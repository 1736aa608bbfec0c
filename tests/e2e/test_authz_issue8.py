"""Issue 8's items the matrix does not walk: phantom joins, join/close races, batches,
tokens without ``exp``, and the wiretap reproduction told end to end.

PROTOCOL.md section 2 (a socketId is a secret capability), section 4 (a join must name
an open socket; batches are all-or-nothing; listings omit socketId and, for most
callers, personId) and section 5.1 (a token without ``exp`` is anonymous).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import httpx
import jwt
import pytest

from steeple.node import Node
from tests.support.alert_steps import open_thread, settle
from tests.support.nodes import JWT_SECRET, auth
from tests.support.steps import entry, group_room, join, live_room, post, shows
from tests.support.wsclient import TestSocket

EDITOR = auth("CH1", "CE", permissions=["Content__Edit"])
HOST = auth("CH1", "HO", permissions=["Chat__Host"])
MEMBER = auth("CH1", "M1")


async def _rows(http: httpx.AsyncClient, room: dict[str, Any]) -> list[dict[str, Any]]:
    response = await http.get(f"/connections/CH1/{room['id']}", headers=EDITOR)
    assert response.status_code == 200, response.text
    return list(response.json())


def _is_json_4xx(response: httpx.Response) -> bool:
    return 400 <= response.status_code < 500 and isinstance(response.json(), dict)


# --- a join must name an open socket ----------------------------------------------------


async def test_a_join_for_a_socket_that_never_existed_is_refused_and_writes_nothing(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    await watcher.next("attendance", shows("Watcher"))
    phantom = secrets.token_urlsafe(8)[:11]
    body = [{"churchId": "CH1", "conversationId": room["id"], "socketId": phantom}]
    for headers in (None, MEMBER, EDITOR):
        response = await http.post("/connections", json=body, headers=headers)
        assert _is_json_4xx(response), (response.status_code, response.text)
    assert await node.store.connections.socket_rows(phantom) == []
    assert [r["displayName"] for r in await _rows(http, room)] == ["Watcher"]
    await settle(watcher)
    assert watcher.pending("attendance") == []  # the viewer count never moved


async def test_a_join_for_a_closed_socket_is_refused_and_writes_nothing(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    watcher, leaver = await sockets(), await sockets()
    await join(http, watcher, room, "Watcher")
    await join(http, leaver, room, "Leaver")
    await watcher.next("attendance", shows("Leaver", "Watcher"))
    watcher.frames.clear()  # the watcher's own earlier "Watcher" frames must not answer below
    await leaver.close()
    await watcher.next("attendance", shows("Watcher"))  # the server has seen the close
    response = await http.post("/connections", json=[entry(leaver, room, "Ghost")])
    assert _is_json_4xx(response), (response.status_code, response.text)
    assert await node.store.connections.socket_rows(leaver.socket_id) == []
    assert [r["displayName"] for r in await _rows(http, room)] == ["Watcher"]
    await settle(watcher)
    assert watcher.pending("attendance") == []


async def test_one_phantom_entry_fails_the_whole_join(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    real = await sockets()
    phantom = {"churchId": "CH1", "conversationId": room["id"], "socketId": "A" * 11}
    response = await http.post("/connections", json=[entry(real, room, "Real"), phantom])
    assert _is_json_4xx(response), (response.status_code, response.text)
    assert await node.store.connections.socket_rows(real.socket_id) == []


async def test_sockets_closing_while_their_joins_are_in_flight_leave_no_row(
    node: Node, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    racers = [await TestSocket.connect(node.socket_url) for _ in range(40)]

    async def race(index: int, socket: TestSocket) -> httpx.Response:
        body = [entry(socket, room, f"Racer {index}")]
        headers = auth("CH1", f"R{index}")  # one person each: no per-caller limit shared
        answer, _ = await asyncio.gather(
            http.post("/connections", json=body, headers=headers), socket.close()
        )
        return answer

    answers = await asyncio.gather(*(race(i, s) for i, s in enumerate(racers)))
    for answer in answers:
        assert answer.status_code == 200 or _is_json_4xx(answer), answer.text
    deadline = time.monotonic() + 10
    # Poll the listing (with a deadline) until the server has processed every close:
    # no frame marks "every close handled", and a phantom row never goes away.
    while (rows := await _rows(http, room)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert rows == [], f"{len(rows)} of {len(racers)} closed sockets still listed"
    for socket in racers:
        assert await node.store.connections.socket_rows(socket.socket_id) == []


# --- listings and frames keep socketIds (and most personIds) to themselves -------------


async def test_listings_and_attendance_omit_socket_ids_and_person_ids(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    guest, member = await sockets(), await sockets()
    await join(http, guest, room, "Guest")
    await join(http, member, room, "Mia", MEMBER)
    frame = await guest.next("attendance", shows("Guest", "Mia"))
    for socket_id in (guest.socket_id, member.socket_id):
        assert socket_id not in str(frame)
    callers = {
        "anonymous": None,
        "member": MEMBER,
        "other church editor": auth("CH2", "X1", permissions=["Content__Edit", "Chat__Host"]),
        "editor": EDITOR,
        "host": HOST,
    }
    for name, headers in callers.items():
        response = await http.get(f"/connections/CH1/{room['id']}", headers=headers)
        assert response.status_code == 200, (name, response.text)
        rows = response.json()
        assert sorted(r["displayName"] for r in rows) == ["Guest", "Mia"]
        assert all("socketId" not in r for r in rows), (name, rows)
        assert all(r["id"] for r in rows)  # the row ids attendance uses stay
        persons = {r.get("personId") for r in rows} - {None}
        assert persons == ({"M1"} if name in ("editor", "host") else set()), (name, rows)


# --- all or nothing ---------------------------------------------------------------------


async def test_a_conversation_batch_with_one_denied_entry_saves_nothing(
    node: Node, http: httpx.AsyncClient
) -> None:
    member = auth("CH1", "GM", group_ids=["G1"])
    good = {"contentType": "group", "contentId": "G1", "groupId": "G1", "title": "good"}
    denied = {**good, "contentType": "groupAnnouncement", "title": "not a leader"}
    response = await http.post("/conversations", json=[good, denied], headers=member)
    assert (response.status_code, response.json()) == (401, {})
    for content_type in ("group", "groupAnnouncement"):
        assert await node.store.conversations.for_content("CH1", content_type, "G1") == []


async def test_a_batch_of_updates_with_one_denied_entry_changes_nothing(
    node: Node, http: httpx.AsyncClient
) -> None:
    leader = auth("CH1", "GL", group_ids=["G1"], leader_group_ids=["G1"])
    own = await group_room(http, "G1", person="GL")
    other = await group_room(http, "G2", person="X2")
    before = [await node.store.conversations.get(c["id"]) for c in (own, other)]
    batch = [{**own, "title": "renamed"}, {**other, "title": "hijacked"}]
    response = await http.post("/conversations", json=batch, headers=leader)
    assert (response.status_code, response.json()) == (401, {})
    after = [await node.store.conversations.get(c["id"]) for c in (own, other)]
    assert after == before
    fresh = {"contentType": "group", "contentId": "G1", "groupId": "G1", "title": "fresh"}
    mixed = await http.post("/conversations", json=[fresh, {**other, "title": "x"}], headers=leader)
    assert (mixed.status_code, mixed.json()) == (401, {})
    titles = [r["title"] for r in await node.store.conversations.for_content("CH1", "group", "G1")]
    assert titles == [own["title"]]


async def test_an_update_of_a_conversation_of_another_church_is_refused(
    node: Node, http: httpx.AsyncClient
) -> None:
    theirs = await group_room(http, "G1", church="CH2", person="P1")
    editor_here = auth("CH1", "CE", permissions=["Content__Edit"])
    response = await http.post(
        "/conversations", json=[{**theirs, "title": "taken over"}], headers=editor_here
    )
    assert (response.status_code, response.json()) == (401, {})
    stored = await node.store.conversations.get(theirs["id"])
    assert stored is not None and (stored["churchId"], stored["title"]) == ("CH2", theirs["title"])
    assert await node.store.conversations.for_content("CH1", "group", "G1") == []


# --- tokens without exp -----------------------------------------------------------------


def _token_without_exp() -> dict[str, str]:
    claims = {
        "id": "u-CE",
        "churchId": "CH1",
        "personId": "CE",
        "firstName": "Eve",
        "lastName": "Forever",
        "permissions": ["Content__Edit", "Chat__Host"],
        "groupIds": ["G1"],
        "leaderGroupIds": ["G1"],
        "iat": int(time.time()),
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


async def test_a_token_without_exp_is_anonymous(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    forever = _token_without_exp()
    group, live = await group_room(http), await live_room(http)
    await post(http, group, "members only", auth("CH1", "P1", group_ids=["G1"]))
    catchup = await http.get(f"/messages/catchup/CH1/{group['id']}", headers=forever)
    assert (catchup.status_code, catchup.json()) == (401, [])
    posted = await http.post(
        "/messages", json=[{"conversationId": group["id"], "content": "x"}], headers=forever
    )
    assert (posted.status_code, posted.json()) == (401, {})
    created = await http.post(
        "/conversations",
        json=[{"contentType": "group", "contentId": "G1", "title": "forever"}],
        headers=forever,
    )
    assert (created.status_code, created.json()) == (401, {})
    socket = await sockets()
    (row,) = await join(http, socket, live, "Eve", forever)
    assert row["personId"] is None  # joined as the anonymous viewer it is
    alerts = await http.post(
        "/connections", json=[entry(socket, ("CH1", "alerts"))], headers=forever
    )
    assert (alerts.status_code, alerts.json()) == (401, {})
    listed = await http.get(f"/connections/CH1/{live['id']}", headers=forever)
    assert all(r.get("personId") is None for r in listed.json())


# --- reproduction 1 of the issue, end to end --------------------------------------------


@pytest.mark.parametrize(
    "outsider",
    [auth("CH1", "P3"), auth("CH1", "P3", permissions=["Content__Edit"])],
    ids=["member", "editor"],
)
async def test_an_outsider_cannot_take_over_a_private_thread(
    node: Node, http: httpx.AsyncClient, sockets: Any, outsider: dict[str, str]
) -> None:
    thread = await open_thread(http, "P1", "P2")
    conversation_id = thread["conversationId"]
    stored = await node.store.conversations.get(conversation_id)
    assert stored is not None
    for victim in ("P1", "P2"):
        before = await node.store.conversations.for_content("CH1", "privateMessage", victim)
        taken = await http.get(
            f"/conversations/current/CH1/privateMessage/{victim}", headers=outsider
        )
        assert (taken.status_code, taken.json()) == (401, {})
        after = await node.store.conversations.for_content("CH1", "privateMessage", victim)
        assert after == before  # never created lazily either
    retyped = {
        "id": conversation_id,
        "contentType": "streamingLive",
        "contentId": "x",
        "title": "now public",
        "visibility": "public",
        "allowAnonymousPosts": True,
    }
    response = await http.post("/conversations", json=[retyped], headers=outsider)
    assert (response.status_code, response.json()) == (401, {})
    assert await node.store.conversations.get(conversation_id) == stored

    eavesdropper = await sockets()
    joined = await http.post("/connections", json=[entry(eavesdropper, ("CH1", conversation_id))])
    assert (joined.status_code, joined.json()) == (401, {})
    await post(http, {"id": conversation_id}, "secret plan", auth("CH1", "P1"))
    for headers in (None, outsider):
        catchup = await http.get(f"/messages/catchup/CH1/{conversation_id}", headers=headers)
        assert (catchup.status_code, catchup.json()) == (401, [])
    await settle(eavesdropper)
    assert "secret plan" not in str(eavesdropper.frames)
