"""Notifications: prior posters hear about new messages, only on their own sockets."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.alert_steps import alerts_socket, counts, is_json_error, settle
from tests.support.nodes import auth
from tests.support.steps import group_room, join, live_room, post, send

MEMBER: dict[str, Any] = {"group_ids": ["G1"]}


def member(person: str, church: str = "CH1", **claims: Any) -> dict[str, str]:
    return auth(church, person, group_ids=["G1"], **claims)


async def test_prior_posters_minus_the_sender_get_a_row_and_a_frame(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    ann = await alerts_socket(http, await sockets(), "P1", **MEMBER)
    bob = await alerts_socket(http, await sockets(), "P2", **MEMBER)
    cid = await alerts_socket(http, await sockets(), "P3", **MEMBER)
    await post(http, room, "first", member("P1"))
    for socket in (ann, bob, cid):  # nobody posted before: nobody hears
        await settle(socket)
        assert socket.pending("notification") == []
    await post(http, room, "second", member("P2"))
    frame = await ann.next("notification")
    assert frame["conversationId"] == "alert" and frame["churchId"] == "CH1"
    assert frame["data"] == {"counts": {"notificationCount": 1, "pmCount": 0}}
    for socket in (bob, cid):  # the sender and a non-poster of the same church
        await settle(socket)
        assert socket.pending("notification") == []

    mine = await http.get("/notifications/my", headers=member("P1"))
    assert [
        (n["contentType"], n["contentId"], n["triggeredByPersonId"], n["isNew"])
        for n in mine.json()
    ] == [("group", "G1", "P2", True)]
    assert mine.json()[0]["message"] == "New message: G1 chat"
    assert await counts(http, "P1") == {"notificationCount": 0, "pmCount": 0}
    assert (await ann.next("notification"))["data"]["counts"]["notificationCount"] == 0
    assert [
        n["isNew"] for n in (await http.get("/notifications/my", headers=member("P1"))).json()
    ] == [False]


async def test_an_unread_notification_is_not_repeated(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    ann = await alerts_socket(http, await sockets(), "P1", **MEMBER)
    await post(http, room, "one", member("P1"))
    await post(http, room, "two", member("P2"))
    await post(http, room, "three", member("P2"))
    await ann.next("notification")
    await settle(ann)
    assert ann.pending("notification") == []
    assert await counts(http, "P1") == {"notificationCount": 1, "pmCount": 0}
    await http.get("/notifications/my", headers=member("P1"))
    await post(http, room, "four", member("P3"))
    frames = [await ann.next("notification") for _ in range(2)]  # read, then the new one
    assert frames[-1]["data"]["counts"]["notificationCount"] == 1


async def test_live_rooms_never_notify(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await live_room(http)
    ann = await alerts_socket(http, await sockets(), "P1")
    await send(http, room, "hello", headers=auth("CH1", "P1"))
    await send(http, room, "hi", headers=auth("CH1", "P2"))
    await settle(ann)
    assert ann.pending("notification") == []
    assert await counts(http, "P1") == {"notificationCount": 0, "pmCount": 0}


async def test_alerts_join_takes_identity_from_the_token_and_stays_private(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    socket = await sockets()
    anonymous = await http.post(
        "/connections",
        json=[{"churchId": "CH1", "conversationId": "alerts", "socketId": socket.socket_id}],
    )
    assert anonymous.status_code == 401
    rows = await join(http, socket, ("CH2", "alerts"), headers=auth("CH1", "P1"))
    assert (rows[0]["churchId"], rows[0]["personId"]) == ("CH1", "P1")
    room = await group_room(http)
    await join(http, socket, room, "Ann", member("P1"))
    await socket.next("attendance")
    await socket.next("blockedIp")
    await settle(socket)
    assert [f["conversationId"] for f in socket.frames] == []
    listing = await http.get("/connections/CH1/alerts", headers=auth("CH1", "P1"))
    assert listing.status_code == 401


async def test_frames_reach_only_the_addressed_persons_sockets(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    ann_tabs = [await alerts_socket(http, await sockets(), "P1", **MEMBER) for _ in range(2)]
    bob = await alerts_socket(http, await sockets(), "P2", **MEMBER)
    other_church = await alerts_socket(http, await sockets(), "P1", church="CH2")
    await post(http, room, "ann was here", member("P1"))
    await post(http, room, "bob too", member("P2"))
    for tab in ann_tabs:
        await tab.next("notification")
    for socket in (bob, other_church):
        await settle(socket)
        assert socket.pending("notification") == []
    left = ann_tabs.pop()
    response = await http.delete(
        f"/connections/CH1/alerts/{left.socket_id}", headers=auth("CH1", "P1")
    )
    assert response.status_code == 200
    await http.get("/notifications/my", headers=member("P1"))
    await ann_tabs[0].next("notification")
    await settle(left)
    assert left.pending("notification") == []


async def test_mark_read_and_delete(http: httpx.AsyncClient) -> None:
    room = await group_room(http)
    await post(http, room, "one", member("P1"))
    await post(http, room, "two", member("P2"))
    assert (await counts(http, "P1"))["notificationCount"] == 1
    denied = await http.post("/notifications/markRead/CH1/P1", headers=member("P2"))
    assert denied.status_code == 401
    admin = auth("CH1", "P9", permissions=["Messaging__Admin"])
    foreign = await http.post(
        "/notifications/markRead/CH1/P1",
        headers=auth("CH2", "P9", permissions=["Messaging__Admin"]),
    )
    assert foreign.status_code == 401
    marked = await http.post("/notifications/markRead/CH1/P1", headers=admin)
    assert marked.status_code == 200 and marked.json() == {}
    assert (await counts(http, "P1"))["notificationCount"] == 0
    own = await http.post("/notifications/markRead/CH1/P1", headers=member("P1"))
    assert own.status_code == 200 and own.json() == {}
    deleted = await http.delete("/notifications/my", headers=member("P1"))
    assert deleted.status_code == 200 and deleted.json() == {}
    assert (await http.get("/notifications/my", headers=member("P1"))).json() == []


async def test_bad_input_is_a_4xx_with_json(http: httpx.AsyncClient) -> None:
    unread = await http.get("/notifications/unreadCount")
    assert unread.status_code == 401 and unread.json() == {}
    mine = await http.get("/notifications/my")
    assert mine.status_code == 401 and mine.json() == []
    personless = {"Authorization": auth("CH1", "")["Authorization"]}
    assert (await http.get("/notifications/unreadCount", headers=personless)).status_code == 401
    cases = [
        (await http.post("/notifications/markRead/CH1/P%2F1", headers=member("P1")), 400),
        (await http.post("/notifications/markRead/C.H/P1", headers=member("P1")), 400),
        (await http.post("/notifications/markRead/CH1/P1"), 401),
        (await http.delete("/notifications/my"), 401),
        (await http.get("/notifications/markRead/CH1/P1", headers=member("P1")), 405),
    ]
    for response, status in cases:
        assert is_json_error(response, status), (response.request.url, response.text)
