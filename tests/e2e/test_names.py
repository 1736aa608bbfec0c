"""Display names and message types over real HTTP and sockets (PROTOCOL.md 5.6).

Every path that stores a name (joins, setName, /messages/send, /messages) cleans it
the same way; a guest cannot take the name of a signed-in person in the room; a
guest's post is always a comment; content keeps its bytes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from steeple.node import Node
from tests.support.nodes import auth, node_settings
from tests.support.steps import join, live_room, post, send, shows
from tests.support.wsclient import TestSocket

HOST = auth("CH1", "PA", first_name="Pastor", last_name="Ann", permissions=["Chat__Host"])
NAMELESS = auth("CH1", "P9", first_name="", last_name="")

# (what a viewer types, what everyone sees)
DIRTY_NAMES = [
    ("\u202eAnn\u202c \u2066Lee\u2069", "Ann Lee"),  # bidi overrides and isolates
    ("\u200bAnn\u200c\u200d\u200e\u200f\ufeff Lee", "Ann Lee"),  # zero-width, BOM
    ("\x1b[31mAnn\x1b[0m \x1b]0;owned\x07Lee", "Ann Lee"),  # CSI colour, OSC title
    ("\x1b]8;;https://evil.example\x1b\\Ann\x1b]8;;\x1b\\ Lee\x1b[2J", "Ann Lee"),  # link
    ("  Ann \t\n\u00a0 Lee\u2028 ", "Ann Lee"),  # whitespace runs, ends
    ("Ann\x01\x07\x7f\x9b31m Lee", "Ann Lee"),  # C0, DEL, a C1 CSI (NUL is a 400)
]


async def test_joins_clean_the_name_everyone_sees(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    for typed, seen in DIRTY_NAMES:
        guest = await sockets()
        rows = await join(http, guest, room, typed)
        assert rows[0]["displayName"] == seen, repr(typed)
        await watcher.next("attendance", lambda f, seen=seen: seen in _names(f))
    listed = (await http.get(f"/connections/CH1/{room['id']}")).json()
    assert sorted(r["displayName"] for r in listed) == sorted(
        [seen for _, seen in DIRTY_NAMES] + ["Watcher"]
    )


async def test_a_name_of_nothing_but_invisible_characters_is_no_name(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    ghost = await sockets()
    rows = await join(http, ghost, room, "\u200b\u202e\x1b[0m\u3164 \t")
    assert rows[0]["displayName"] == ""
    await ghost.next("attendance", shows("Anonymous"))
    saved = await send(http, room, "boo", name="\u200b\u2066\u2069")
    assert saved["displayName"] == "Anonymous"


async def test_a_long_join_name_is_trimmed_to_the_column(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    viewer = await sockets()
    rows = await join(http, viewer, room, "  " + "n" * 96 + "\u200b\u200b")
    assert rows[0]["displayName"] == "n" * 96
    too_long = await http.post("/connections", json=[_entry(viewer, room, "n" * 101)])
    assert too_long.status_code == 400 and "displayName" in too_long.json()["error"]


async def test_set_name_cleans_the_name_in_every_room(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    first, second = await live_room(http, service="svcA"), await live_room(http, service="svcB")
    viewer = await sockets()
    await join(http, viewer, first, "Viewer")
    await join(http, viewer, second, "Viewer")
    for typed, seen in DIRTY_NAMES:
        body = {"socketId": viewer.socket_id, "name": typed}
        response = await http.post("/connections/setName", json=body)
        assert response.status_code == 200, response.text
        assert {r["displayName"] for r in response.json()} == {seen}, repr(typed)
        for room in (first, second):
            listed = (await http.get(f"/connections/CH1/{room['id']}")).json()
            assert [r["displayName"] for r in listed] == [seen]
    await viewer.next("attendance", shows("Ann Lee"))


async def test_send_cleans_and_caps_the_name_in_answer_frame_and_history(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    cases = [*DIRTY_NAMES, ("\u202e" + "x" * 60, "x" * 45), ("y" * 44 + " \u200bz", "y" * 44)]
    for index, (typed, seen) in enumerate(cases):
        saved = await send(http, room, f"m{index}", name=typed)
        assert saved["displayName"] == seen, repr(typed)
        frame = await watcher.next("message", lambda f, i=index: f["data"]["content"] == f"m{i}")
        assert frame["data"]["displayName"] == seen
    history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["displayName"] for m in history] == [seen for _, seen in cases]


async def test_signed_in_posts_clean_the_name_from_the_body_or_the_token(
    http: httpx.AsyncClient,
) -> None:
    room = await live_room(http)
    for typed, seen in DIRTY_NAMES:
        saved = await post(http, room, "hi", NAMELESS, displayName=typed)
        assert saved["displayName"] == seen, repr(typed)
    odd_token = auth("CH1", "P8", first_name="\u202eMallory\x1b[5m", last_name="\u200bLee")
    assert (await post(http, room, "hi", odd_token))["displayName"] == "Mallory Lee"
    unnamed = await post(http, room, "hi", NAMELESS, displayName="\u200b")
    assert unnamed["displayName"] == "Anonymous"


async def test_content_keeps_its_bytes(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    content = '{"slide":"\u202e\u200b","esc":"\x1b[31m"}  \t\n'
    saved = await send(http, room, content, name="\u202eFreeShow")
    assert saved["content"] == content and saved["displayName"] == "FreeShow"
    frame = await watcher.next("message")
    assert frame["data"]["content"] == content
    history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert history[0]["content"] == content


# --- a guest cannot take a signed-in person's name -----------------------------------


async def _hosted_room(http: httpx.AsyncClient, sockets: Any) -> tuple[dict[str, Any], Any]:
    """A live room the signed-in host has joined as "Pastor Ann"."""
    room = await live_room(http)
    host = await sockets()
    rows = await join(http, host, room, "Pastor Ann", headers=HOST)
    assert rows[0]["personId"] == "PA" and rows[0]["displayName"] == "Pastor Ann"
    return room, host


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("Pastor Ann", "Pastor Ann (guest)"),
        ("pastor ann\u200b", "pastor ann (guest)"),
        ("  PASTOR\u202e  ANN ", "PASTOR ANN (guest)"),
        ("\uff30astor Ann", "\uff30astor Ann (guest)"),  # a fullwidth P
    ],
)
async def test_a_guest_joining_under_the_hosts_name_is_marked(
    http: httpx.AsyncClient, sockets: Any, typed: str, seen: str
) -> None:
    room, host = await _hosted_room(http, sockets)
    guest = await sockets()
    rows = await join(http, guest, room, typed)
    assert rows[0]["displayName"] == seen
    await host.next("attendance", lambda f: sorted(_names(f)) == sorted(["Pastor Ann", seen]))
    other = await sockets()
    assert (await join(http, other, room, "Ann"))[0]["displayName"] == "Ann"


@pytest.mark.parametrize("typed", ["Pastor Ann", "pastor ann\u200b", "Pastor\u2066 Ann\u2069"])
async def test_a_guest_posting_under_the_hosts_name_is_marked(
    http: httpx.AsyncClient, sockets: Any, typed: str
) -> None:
    room, host = await _hosted_room(http, sockets)
    saved = await send(http, room, "I am the pastor", name=typed)
    assert saved["displayName"].endswith(" (guest)")
    assert saved["displayName"].lower() == "pastor ann (guest)"
    frame = await host.next("message")
    assert frame["data"]["displayName"] == saved["displayName"]
    assert frame["data"]["personId"] is None
    own = await send(http, room, "I really am", name="Pastor Ann", headers=HOST)
    assert (own["displayName"], own["personId"]) == ("Pastor Ann", "PA")


async def test_a_guest_renaming_to_the_hosts_name_is_marked(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room, host = await _hosted_room(http, sockets)
    guest = await sockets()
    await join(http, guest, room, "Visitor")
    body = {"socketId": guest.socket_id, "name": "PASTOR ANN"}
    renamed = (await http.post("/connections/setName", json=body)).json()
    assert [r["displayName"] for r in renamed] == ["PASTOR ANN (guest)"]
    await host.next("attendance", shows("PASTOR ANN (guest)", "Pastor Ann"))
    host_body = {"socketId": host.socket_id, "name": "Pastor Ann Lee"}
    host_renamed = (await http.post("/connections/setName", json=host_body, headers=HOST)).json()
    assert [r["displayName"] for r in host_renamed] == ["Pastor Ann Lee"]


async def test_a_long_hosts_name_is_marked_within_the_column(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http)
    long_name = "Reverend " + "A" * 40  # 49 characters: a message shows the first 45
    host = await sockets()
    await join(http, host, room, long_name, headers=HOST)
    saved = await send(http, room, "hello", name=long_name)
    assert saved["displayName"] == ("Reverend " + "A" * 28 + " (guest)")
    assert len(saved["displayName"]) == 45


async def test_a_signed_in_poster_keeps_the_name_without_joining(
    http: httpx.AsyncClient,
) -> None:
    room = await live_room(http)
    deacon = auth("CH1", "PD", first_name="Deacon", last_name="Bob")
    assert (await post(http, room, "welcome", deacon))["displayName"] == "Deacon Bob"
    assert (await send(http, room, "me too", name="deacon bob"))["displayName"] == (
        "deacon bob (guest)"
    )


async def test_names_held_in_another_room_or_by_guests_are_free(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await _hosted_room(http, sockets)
    elsewhere = await live_room(http, service="svc2")
    guest = await sockets()
    assert (await join(http, guest, elsewhere, "Pastor Ann"))[0]["displayName"] == "Pastor Ann"
    second = await sockets()
    assert (await join(http, second, elsewhere, "Pastor Ann"))[0]["displayName"] == "Pastor Ann"


async def test_a_host_joined_through_another_node_holds_the_name(sqlite_url: str) -> None:
    """The rows are the cluster's truth: a node that never saw the host's join reads them."""
    nodes = [Node(node_settings(sqlite_url)) for _ in range(2)]
    for node in nodes:
        await node.start()
    clients = [httpx.AsyncClient(base_url=n.http_url + "/messaging", timeout=10) for n in nodes]
    opened: list[TestSocket] = []
    try:
        room = await live_room(clients[0])
        host = await TestSocket.connect(nodes[0].socket_url)
        guest = await TestSocket.connect(nodes[1].socket_url)
        opened += [host, guest]
        await join(clients[0], host, room, "Pastor Ann", headers=HOST)
        rows = await join(clients[1], guest, room, "Pastor Ann")
        assert rows[0]["displayName"] == "Pastor Ann (guest)"
        saved = await send(clients[1], room, "hi", name="Pastor Ann")
        assert saved["displayName"] == "Pastor Ann (guest)"
    finally:
        for socket in opened:
            await socket.close()
        for client in clients:
            await client.aclose()
        for node in nodes:
            await node.stop()


# --- message types --------------------------------------------------------------------


@pytest.mark.parametrize("claimed", ["callout", "message", "subscription", None])
async def test_a_guests_post_is_a_comment(
    http: httpx.AsyncClient, sockets: Any, claimed: str | None
) -> None:
    room = await live_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Watcher")
    body = [_message(room, "look at me", messageType=claimed)]
    response = await http.post("/messages/send", json=body)
    assert response.status_code == 200, response.text
    assert response.json()[0]["messageType"] == "comment"
    frame = await watcher.next("message")
    assert frame["data"]["messageType"] == "comment"
    history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["messageType"] for m in history] == ["comment"]


async def test_signed_in_callers_keep_their_message_type(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    body = [_message(room, "notice", messageType="callout")]
    response = await http.post("/messages/send", json=body, headers=HOST)
    assert response.json()[0]["messageType"] == "callout"
    plain = await post(http, room, "hi", HOST)
    assert plain["messageType"] == "message"
    too_long = await http.post(
        "/messages/send", json=[_message(room, "x", messageType="t" * 46)], headers=HOST
    )
    assert too_long.status_code == 400 and "messageType" in too_long.json()["error"]


def _names(frame: dict[str, Any]) -> list[str]:
    return [v["displayName"] for v in frame["data"]["viewers"]]


def _entry(socket: Any, room: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "churchId": room["churchId"],
        "conversationId": room["id"],
        "socketId": socket.socket_id,
        "displayName": name,
    }


def _message(room: dict[str, Any], content: str, **fields: Any) -> dict[str, Any]:
    entry = {"churchId": room["churchId"], "conversationId": room["id"], "content": content}
    entry.update({k: v for k, v in fields.items() if v is not None})
    entry["displayName"] = entry.get("displayName", "Guest")
    return entry
