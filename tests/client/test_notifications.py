"""Unread counts from the alerts room and ``/notifications/unreadCount``."""

from __future__ import annotations

import httpx

from steeple.client import Counts
from tests.client.conftest import MakeClient
from tests.client.helpers import Recorder
from tests.conftest import auth, token


async def test_counts_follow_private_messages_and_reading_them(
        clients: MakeClient, http: httpx.AsyncClient) -> None:
    pat = await clients(token=token("CH1", "P1"))
    assert await pat.notifications.start() == Counts(0, 0)
    seen = Recorder[Counts]()
    pat.notifications.subscribe(seen)

    sam = auth("CH1", "P2", first_name="Sam")
    thread = (await http.post("/privateMessages", json=[{"toPersonId": "P1"}],
                              headers=sam)).json()[0]
    response = await http.post("/messages", headers=sam, json=[
        {"conversationId": thread["conversationId"], "content": "psst"}])
    assert response.status_code == 200, response.text
    assert await seen.until(lambda c: c.pm_count == 1) == Counts(0, 1)

    await pat.rest.request("GET", f"/privateMessages/{thread['id']}")  # reading clears it
    await seen.until(lambda c: c.pm_count == 0)
    assert await pat.notifications.refresh() == Counts(0, 0)
