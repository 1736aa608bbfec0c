"""PROTOCOL.md revision 2 rules, end to end through real HTTP and sockets: subscription
messages, freeshow rooms, author rules, and the private-message / listing rules."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.alert_steps import alerts_socket, counts
from tests.support.nodes import auth
from tests.support.steps import group_room, join, post

MEMBERS = {"group_ids": ["G1"]}


def member(person: str, **claims: Any) -> dict[str, str]:
    return auth("CH1", person, group_ids=["G1"], **claims)


async def unread(http: httpx.AsyncClient, person: str) -> int:
    return (await counts(http, person))["notificationCount"]


# --- 1. subscription messages ------------------------------------------------------------


async def test_subscription_off_mutes_and_on_subscribes(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    await post(http, room, "hello", member("P1"))
    muted = await post(http, room, "off", member("P1"), messageType="subscription")
    assert muted["messageType"] == "subscription"  # stored and answered like any message
    await post(http, room, "on", member("P3"), messageType="subscription")
    watcher = await sockets()
    await join(http, watcher, room, headers=member("P4"))
    await post(http, room, "news", member("P2"))
    frame = await watcher.next("message", lambda f: f["data"]["content"] == "news")
    assert frame["data"]["personId"] == "P2"
    # P1's latest message is "off": muted. P3 switched on without ever posting.
    assert await unread(http, "P1") == 0
    assert await unread(http, "P3") == 1
    # Posting again subscribes P1 once more.
    await post(http, room, "back", member("P1"))
    await post(http, room, "more news", member("P2"))
    assert await unread(http, "P1") == 1


async def test_subscription_messages_and_edits_notify_nobody(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    await post(http, room, "first", member("P1"))
    ann = await alerts_socket(http, await sockets(), "P1", **MEMBERS)
    watcher = await sockets()
    await join(http, watcher, room, headers=member("P1"))
    await post(http, room, "on", member("P2"), messageType="subscription")
    switch = await watcher.next("message", lambda f: f["data"]["content"] == "on")
    assert switch["data"]["messageType"] == "subscription"  # framed like any message
    assert await unread(http, "P1") == 0
    mine = await post(http, room, "mine", member("P2"))
    await ann.next("notification")
    assert (await http.get("/notifications/my", headers=member("P1"))).status_code == 200
    await post(http, room, "mine, edited", member("P2"), id=mine["id"])
    await watcher.next("message", lambda f: f["data"]["content"] == "mine, edited")
    assert await unread(http, "P1") == 0


# --- 2. freeshow rooms -------------------------------------------------------------------


async def test_freeshow_flow_anonymous_room_team_join_and_json_round_trip(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    response = await http.get("/conversations/current/CH1/freeshow/team1")
    assert response.status_code == 200, response.text
    room = response.json()
    assert (room["visibility"], room["allowAnonymousPosts"]) == ("public", True)
    again = await http.get("/conversations/current/CH1/freeshow/team1")
    assert again.json()["id"] == room["id"]
    too_long = await http.get("/conversations/current/CH1/freeshow/" + "t" * 12)
    assert too_long.status_code == 400

    a, b = await sockets(), await sockets()
    for socket in (a, b):
        joined = await http.post(
            "/connections",
            json=[
                {
                    "churchId": "CH1",
                    "conversationId": room["id"],
                    "socketId": socket.socket_id,
                    "displayName": "FreeShow",
                    "teamId": "team1",
                }
            ],
        )
        assert joined.status_code == 200, joined.text
    content = json.dumps({"action": "SHOW", "data": {"id": "s1", "text": "  Amazing  grace "}})
    # An ordinary printable name (PROTOCOL.md 5.6 only strips control characters and
    # trims), and JSON content whose inner spacing must survive untouched.
    name = "Stage PC (booth) ✝ Ünïcode"
    body = [
        {
            "churchId": "CH1",
            "conversationId": room["id"],
            "content": content,
            "displayName": name,
            "teamId": "team1",
        }
    ]
    sent = await http.post("/messages/send", json=body)
    assert sent.status_code == 200, sent.text
    frame = await b.next("message")
    assert frame["data"]["content"] == content
    assert frame["data"]["displayName"] == name
    assert frame["data"]["personId"] is None
    catchup = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["content"] for m in catchup] == [content]


# --- 3. author rules ---------------------------------------------------------------------


async def test_new_message_takes_the_token_name_and_edits_keep_the_author(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await group_room(http)
    named = member("P1", first_name="Ann", last_name="Lee")
    saved = await post(http, room, "hi", named, displayName="The Pastor")
    assert saved["displayName"] == "Ann Lee"
    blank_last = await post(http, room, "hi", member("P2", first_name="Bo", last_name=" "))
    assert blank_last["displayName"] == "Bo"
    nameless = member("P3", first_name="", last_name="")
    assert (await post(http, room, "hi", nameless, displayName="Cy"))["displayName"] == "Cy"

    watcher, activity = await sockets(), await sockets()
    await join(http, watcher, room, headers=named)
    await join(http, activity, ("CH1", "content-group-G1"), headers=named)
    editor = auth("CH1", "P9", permissions=["Content__Edit"], first_name="Ed", last_name="It")
    edited = await post(http, room, "fixed", editor, id=saved["id"], displayName="Ed")
    assert (edited["personId"], edited["displayName"]) == ("P1", "Ann Lee")
    assert edited["timeUpdated"] is not None
    frame = await watcher.next("message")
    assert (frame["data"]["content"], frame["data"]["displayName"]) == ("fixed", "Ann Lee")
    kind = await activity.next("conversationActivity")
    assert (kind["data"]["kind"], kind["data"]["conversationId"]) == ("message", room["id"])

    other_member = member("P2")
    refused = await http.post(
        "/messages", json=[{"id": saved["id"], "content": "mine now"}], headers=other_member
    )
    assert refused.status_code == 401
    stored = (await http.get(f"/messages/CH1/{saved['id']}", headers=named)).json()
    assert (stored["content"], stored["displayName"]) == ("fixed", "Ann Lee")


async def test_posting_to_a_conversation_of_another_church_is_401_and_saves_nothing(
    http: httpx.AsyncClient,
) -> None:
    room = await group_room(http)
    body = [
        {"conversationId": room["id"], "content": "ok"},
        {"conversationId": "nosuchroom1", "content": "lost"},
    ]
    missing = await http.post("/messages", json=body, headers=member("P1"))
    assert (missing.status_code, missing.json()) == (401, {})
    foreign = await http.post(
        "/messages",
        json=[{"conversationId": room["id"], "content": "x"}],
        headers=auth("CH2", "P1", group_ids=["G1"]),
    )
    assert foreign.status_code == 401
    listed = await http.get(f"/messages/conversation/{room['id']}", headers=member("P1"))
    assert listed.json() == []


async def test_delete_recomputes_post_count_and_edges(http: httpx.AsyncClient) -> None:
    room = await group_room(http)
    first, middle, last = [await post(http, room, t, member("P1")) for t in ("a", "b", "c")]

    async def stats() -> tuple[Any, Any, Any]:
        row = (await http.get(f"/conversations/CH1/{room['id']}", headers=member("P1"))).json()
        return row["postCount"], row["firstPostId"], row["lastPostId"]

    assert await stats() == (3, first["id"], last["id"])
    for gone, expected in (
        (last, (2, first["id"], middle["id"])),
        (first, (1, middle["id"], middle["id"])),
        (middle, (0, None, None)),
    ):
        response = await http.delete(f"/messages/{gone['id']}", headers=member("P1"))
        assert response.status_code == 200, response.text
        assert await stats() == expected


# --- 5. private messages, listings, workflow cards ---------------------------------------


async def _conversation(http: httpx.AsyncClient, person: str, **fields: Any) -> dict[str, Any]:
    body = [{"contentType": "privateMessage", "contentId": person, "title": "PM", **fields}]
    response = await http.post("/conversations", json=body, headers=auth("CH1", person))
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


async def test_private_message_rules(http: httpx.AsyncClient) -> None:
    conversation = await _conversation(http, "P1")
    opened = await http.post(
        "/privateMessages",
        json=[
            {
                "toPersonId": "P2",
                "conversationId": conversation["id"],
                "id": "forgedId001",
                "notifyPersonId": "P2",
            }
        ],
        headers=auth("CH1", "P1"),
    )
    assert opened.status_code == 200, opened.text
    thread = opened.json()[0]
    assert thread["id"] != "forgedId001" and thread["notifyPersonId"] is None
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 0}

    group = await group_room(http)
    for conversation_id in ("nosuchroom1", group["id"]):
        refused = await http.post(
            "/privateMessages",
            json=[{"toPersonId": "P2", "conversationId": conversation_id}],
            headers=auth("CH1", "P1"),
        )
        assert (refused.status_code, refused.json()) == (401, {})
    taken = await http.post(
        "/privateMessages",
        json=[{"toPersonId": "P4", "conversationId": conversation["id"]}],
        headers=auth("CH1", "P3"),
    )
    assert taken.status_code == 401


async def test_page_limit_is_clamped_and_empty_timeline_is_empty(
    http: httpx.AsyncClient,
) -> None:
    room = await group_room(http)
    for i in range(3):
        await post(http, room, f"m{i}", member("P1"))
    url = "/conversations/messages/group/G1"
    for limit, expected in (("0", 1), ("-5", 1), ("2", 2), ("ten", 3), ("1000", 3)):
        pages = await http.get(url, params={"limit": limit}, headers=member("P1"))
        assert pages.status_code == 200, pages.text
        assert len(pages.json()[0]["messages"]) == expected, limit
    empty = await http.get("/conversations/timeline/ids", headers=member("P1"))
    assert (empty.status_code, empty.json()) == (200, [])
    blank = await http.get("/conversations/timeline/ids?ids=", headers=member("P1"))
    assert blank.json() == []


async def test_workflow_cards_need_tasks_view(http: httpx.AsyncClient) -> None:
    viewer = auth("CH1", "P1", permissions=["Tasks__View"])
    current = await http.get("/conversations/current/CH1/workflowCard/card1", headers=viewer)
    assert current.status_code == 200, current.text
    for who, status in (
        (viewer, 200),
        (auth("CH1", "P2", permissions=["Content__Edit"]), 200),
        (auth("CH1", "P3"), 401),
        (auth("CH2", "P1", permissions=["Tasks__View"]), 401),
    ):
        found = await http.get(f"/conversations/CH1/{current.json()['id']}", headers=who)
        assert found.status_code == status, who
    plain = await http.get("/conversations/current/CH1/workflowCard/card1", headers=auth())
    assert plain.status_code == 401


async def test_listing_content_the_caller_may_not_read_is_401(http: httpx.AsyncClient) -> None:
    await group_room(http)
    mine = await http.get("/conversations/CH1/group/G1", headers=member("P1"))
    assert mine.status_code == 200 and len(mine.json()) == 1
    for who in (auth("CH2", "P1", group_ids=["G1"]), auth("CH1", "P5"), {}):
        refused = await http.get("/conversations/CH1/group/G1", headers=who)
        assert (refused.status_code, refused.json()) == (401, [])
