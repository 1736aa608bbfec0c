"""Conversation listings end to end: content pages, timeline, group posts, current, delete."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from steeple.auth.hostchat import HostChatCipher
from tests.support.nodes import ENCRYPTION_KEY, auth
from tests.support.steps import group_room, post

MEMBER = auth("CH1", "P1", group_ids=["G1"])
STRANGER = auth("CH1", "P3", group_ids=["G2"])
EDITOR = auth("CH1", "P9", permissions=["Content__Edit"])


async def test_listings_show_stats_and_edge_messages(http: httpx.AsyncClient) -> None:
    group = await group_room(http)
    sent = [await post(http, group, f"m{i}", MEMBER) for i in range(3)]

    pages = await http.get("/conversations/messages/group/G1", params={"limit": 2}, headers=MEMBER)
    assert pages.status_code == 200, pages.text
    (listed,) = pages.json()
    assert listed["id"] == group["id"]
    assert [m["content"] for m in listed["messages"]] == ["m2", "m1"]
    assert all(m["reactions"] == [] for m in listed["messages"])

    timeline = await http.get(
        "/conversations/timeline/ids", params={"ids": f"{group['id']},unknown"}, headers=MEMBER
    )
    assert timeline.status_code == 200, timeline.text
    (entry,) = timeline.json()
    assert entry["postCount"] == 3
    assert [m["id"] for m in entry["messages"]] == [sent[0]["id"], sent[2]["id"]]

    for path in ("/conversations/posts", "/conversations/posts/group/G1"):
        response = await http.get(path, headers=MEMBER)
        assert response.status_code == 200, response.text
        assert [c["id"] for c in response.json()] == [group["id"]]
        assert response.json()[0]["lastPostId"] == sent[2]["id"]
    denied = await http.get("/conversations/posts/group/G1", headers=STRANGER)
    assert (denied.status_code, denied.json()) == (401, [])
    assert (
        await http.get("/conversations/timeline/ids", params={"ids": group["id"]}, headers=STRANGER)
    ).json() == []

    by_content = await http.get("/conversations/CH1/group/G1", headers=MEMBER)
    assert [c["id"] for c in by_content.json()] == [group["id"]]
    assert (await http.get("/conversations/CH1/group/G1", headers=STRANGER)).json() == []


async def test_current_room_is_reused_then_deleted(http: httpx.AsyncClient) -> None:
    first = await http.get("/conversations/current/CH1/group/G1", headers=MEMBER)
    again = await http.get("/Conversations/Current/CH1/group/G1", headers=MEMBER)
    assert first.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["title"] == "group #G1"
    assert first.json()["allowAnonymousPosts"] is False
    refused = await http.get("/conversations/current/CH1/group/G1", headers=STRANGER)
    assert (refused.status_code, refused.json()) == (401, {})
    anonymous = await http.get("/conversations/current/CH1/group/G1")
    assert anonymous.status_code == 401

    conversation_id = first.json()["id"]
    await post(http, first.json(), "bye", MEMBER)
    not_allowed = await http.delete(f"/conversations/CH1/{conversation_id}", headers=MEMBER)
    assert not_allowed.status_code == 401
    deleted = await http.delete(f"/conversations/CH1/{conversation_id}", headers=EDITOR)
    assert (deleted.status_code, deleted.json()) == (200, {})
    gone = await http.get(f"/messages/catchup/CH1/{conversation_id}", headers=MEMBER)
    assert gone.status_code == 404
    fresh = await http.get("/conversations/current/CH1/group/G1", headers=MEMBER)
    assert fresh.json()["id"] != conversation_id


async def test_encrypted_host_chat_id_with_slashes_survives_routing(
    http: httpx.AsyncClient,
) -> None:
    cipher = HostChatCipher(ENCRYPTION_KEY)
    room_id = next(r for r in (cipher.encrypt("svc1") for _ in range(500)) if "/" in r and "+" in r)
    host = auth("CH1", "P1", permissions=["Chat__Host"])
    response = await http.get(
        f"/conversations/current/CH1/streamingLiveHost/{quote(room_id, safe='')}", headers=host
    )
    assert response.status_code == 200, response.text
    assert (response.json()["contentType"], response.json()["contentId"]) == (
        "streamingLiveHost",
        "svc1",
    )
    refused = await http.get(
        f"/conversations/current/CH1/streamingLiveHost/{quote(room_id, safe='')}", headers=MEMBER
    )
    assert refused.status_code == 401
