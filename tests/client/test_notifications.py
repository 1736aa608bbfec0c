"""Unread counts from the alerts room and ``/notifications/unreadCount``."""

from __future__ import annotations

import httpx

from steeple.client import Counts
from tests.support.client_nodes import MakeClient
from tests.support.client_tools import Recorder
from tests.support.nodes import auth, token


async def test_counts_follow_private_messages_and_reading_them(
    clients: MakeClient, http: httpx.AsyncClient
) -> None:
    pat = await clients(token=token("CH1", "P1"))
    assert await pat.notifications.start() == Counts(0, 0)
    seen = Recorder[Counts]()
    pat.notifications.subscribe(seen)

    sam = auth("CH1", "P2", first_name="Sam")
    thread = (await http.post("/privateMessages", json=[{"toPersonId": "P1"}], headers=sam)).json()[
        0
    ]
    response = await http.post(
        "/messages",
        headers=sam,
        json=[{"conversationId": thread["conversationId"], "content": "psst"}],
    )
    assert response.status_code == 200, response.text
    assert await seen.until(lambda c: c.pm_count == 1) == Counts(0, 1)

    await pat.rest.request("GET", f"/privateMessages/{thread['id']}")  # reading clears it
    await seen.until(lambda c: c.pm_count == 0)
    assert await pat.notifications.refresh() == Counts(0, 0)


async def test_counts_follow_replies_in_a_group_conversation(
    clients: MakeClient, http: httpx.AsyncClient
) -> None:
    pat_headers = auth("CH1", "P1", group_ids=["G1"])
    created = await http.post(
        "/conversations",
        headers=pat_headers,
        json=[{"contentType": "group", "contentId": "G1", "title": "Small group", "groupId": "G1"}],
    )
    assert created.status_code == 200, created.text
    conversation_id = created.json()[0]["id"]
    first = await http.post(
        "/messages",
        headers=pat_headers,
        json=[{"conversationId": conversation_id, "content": "Who's in?"}],
    )
    assert first.status_code == 200, first.text

    pat = await clients(token=token("CH1", "P1", group_ids=["G1"]))
    assert await pat.notifications.start() == Counts(0, 0)
    seen = Recorder[Counts]()
    pat.notifications.subscribe(seen)
    sam = auth("CH1", "P2", first_name="Sam", group_ids=["G1"])
    reply = await http.post(
        "/messages", headers=sam, json=[{"conversationId": conversation_id, "content": "Me!"}]
    )
    assert reply.status_code == 200, reply.text
    assert await seen.until(lambda c: c.notification_count == 1) == Counts(1, 0)

    await pat.rest.request("GET", "/notifications/my")  # reading them marks them read
    assert await pat.notifications.refresh() == Counts(0, 0)
