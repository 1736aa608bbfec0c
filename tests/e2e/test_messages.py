"""Messages end to end: catchup order and cursor, activity rooms, delete, edit."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.nodes import auth
from tests.support.steps import group_room, join, live_room, post, send

MEMBER = auth("CH1", "P1", group_ids=["G1"])
OTHER_MEMBER = auth("CH1", "P2", group_ids=["G1"])


async def test_catchup_is_oldest_first_and_after_returns_the_rest(http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    batch = [
        {"churchId": "CH1", "conversationId": room["id"], "content": f"m{i}", "displayName": "Ann"}
        for i in range(5)
    ]
    # One batch, so the same millisecond: a signed-in caller may batch (an anonymous
    # one may not), and one whose token has no personId stores none.
    response = await http.post("/messages/send", json=batch, headers=auth("CH1", ""))
    assert response.status_code == 200, response.text
    saved = response.json()
    await send(http, room, "m5")
    url = f"/messages/catchup/CH1/{room['id']}"
    everything = (await http.get(url)).json()
    assert [m["content"] for m in everything] == [f"m{i}" for i in range(6)]
    assert all(m["timeSent"].endswith("Z") and m["personId"] is None for m in everything)
    later = (await http.get(url, params={"after": saved[2]["id"]})).json()
    assert [m["content"] for m in later] == ["m3", "m4", "m5"]
    assert (await http.get(url, params={"after": everything[-1]["id"]})).json() == []
    by_id = await http.get(f"/messages/CH1/{saved[0]['id']}")
    assert by_id.json()["content"] == "m0"
    conversation = (await http.get(f"/conversations/CH1/{room['id']}")).json()
    assert conversation["postCount"] == 6
    assert (conversation["firstPostId"], conversation["lastPostId"]) == (
        saved[0]["id"],
        everything[-1]["id"],
    )


async def test_conversation_activity_reaches_content_room_subscribers(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    live_watcher, group_watcher, outsider = await sockets(), await sockets(), await sockets()
    await join(http, live_watcher, ("CH1", "content-streamingLive-svc7"))
    await join(http, group_watcher, ("CH1", "content-group-G1"), headers=MEMBER)
    denied = await http.post(
        "/connections",
        json=[
            {
                "churchId": "CH1",
                "conversationId": "content-group-G1",
                "socketId": outsider.socket_id,
            }
        ],
        headers=auth("CH1", "P3", group_ids=["G2"]),
    )
    assert (denied.status_code, denied.json()) == (401, {})

    room = await live_room(http, service="svc7")
    created = await live_watcher.next("conversationActivity")
    assert created["conversationId"] == "content-streamingLive-svc7"
    assert created["data"] == {
        "contentType": "streamingLive",
        "contentId": "svc7",
        "conversationId": room["id"],
        "kind": "created",
    }
    await send(http, room, "hello")
    activity = await live_watcher.next("conversationActivity")
    assert activity["data"]["kind"] == "message"
    assert activity["data"]["conversationId"] == room["id"]

    group = await group_room(http)
    frame = await group_watcher.next("conversationActivity")
    assert (frame["data"]["kind"], frame["data"]["conversationId"]) == ("created", group["id"])
    await post(http, group, "for the group", MEMBER)
    frame = await group_watcher.next("conversationActivity")
    assert (frame["data"]["kind"], frame["data"]["contentId"]) == ("message", "G1")
    await send(http, room, "marker")
    await live_watcher.next("conversationActivity", lambda f: f["data"]["kind"] == "message")
    assert outsider.pending("conversationActivity") == []
    assert live_watcher.pending("conversationActivity") == []


async def test_author_deletes_and_others_are_refused(http: httpx.AsyncClient, sockets: Any) -> None:
    group = await group_room(http)
    watcher = await sockets()
    await join(http, watcher, group, "Bea", headers=OTHER_MEMBER)
    message = await post(http, group, "oops", MEMBER)
    assert message["personId"] == "P1" and message["displayName"] == "Pat P1"
    await watcher.next("message", lambda f: f["data"]["id"] == message["id"])

    refused = await http.delete(f"/messages/{message['id']}", headers=OTHER_MEMBER)
    assert (refused.status_code, refused.json()) == (401, {})
    assert refused.reason_phrase == "Unauthorized"
    anonymous = await http.delete(f"/messages/{message['id']}")
    assert anonymous.status_code == 401
    catchup = await http.get(f"/messages/catchup/CH1/{group['id']}", headers=MEMBER)
    assert [m["id"] for m in catchup.json()] == [message["id"]]

    deleted = await http.delete(f"/messages/{message['id']}", headers=MEMBER)
    assert deleted.json() == {"message": "Message deleted successfully"}
    frame = await watcher.next("deleteMessage")
    assert frame["data"] == {"id": message["id"]}
    assert frame["conversationId"] == group["id"]
    assert (await http.get(f"/messages/catchup/CH1/{group['id']}", headers=MEMBER)).json() == []
    conversation = (await http.get(f"/conversations/CH1/{group['id']}", headers=MEMBER)).json()
    assert (conversation["postCount"], conversation["lastPostId"]) == (0, None)
    again = await http.delete(f"/messages/{message['id']}", headers=MEMBER)
    assert again.status_code == 404


async def test_edit_sends_the_edited_message(http: httpx.AsyncClient, sockets: Any) -> None:
    group = await group_room(http)
    watcher = await sockets()
    await join(http, watcher, group, "Bea", headers=OTHER_MEMBER)
    original = await post(http, group, "frist", MEMBER)
    await watcher.next("message", lambda f: f["data"]["id"] == original["id"])

    refused = await http.post(
        "/messages",
        headers=OTHER_MEMBER,
        json=[{"id": original["id"], "conversationId": group["id"], "content": "hijacked"}],
    )
    assert (refused.status_code, refused.json()) == (401, {})
    edited = await post(http, group, "first", MEMBER, id=original["id"])
    assert edited["id"] == original["id"] and edited["timeUpdated"]
    frame = await watcher.next("message", lambda f: f["data"]["id"] == original["id"])
    assert frame["data"]["content"] == "first"
    assert frame["data"]["personId"] == "P1" and frame["data"]["timeUpdated"]
    assert frame["data"]["timeSent"] == original["timeSent"]
    stored = (await http.get(f"/messages/CH1/{original['id']}", headers=MEMBER)).json()
    assert (stored["content"], stored["timeUpdated"]) == ("first", edited["timeUpdated"])
    listed = (await http.get(f"/messages/conversation/{group['id']}", headers=MEMBER)).json()
    assert [m["content"] for m in listed] == ["first"]
