"""Slow mode across nodes: the last-post ledger lives in Redis, so two nodes behind a
load balancer hold a viewer to one allowance, not one per node."""

from __future__ import annotations

import pytest

from tests.support.cluster import Cluster
from tests.support.nodes import auth

HOST = auth("CH1", "H1", permissions=["Chat__Host"])


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_viewer_slowed_on_one_node_is_slowed_on_the_other(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    on_a, on_b = cluster.http(a), cluster.http(b)
    room = (await on_a.get("/conversations/current/CH1/streamingLive/svc1")).json()
    listener = await cluster.socket(b)
    join = [{"churchId": "CH1", "conversationId": room["id"], "socketId": listener.socket_id}]
    assert (await on_b.post("/connections", json=join)).status_code == 200

    settings = f"/conversations/CH1/{room['id']}/settings"
    response = await on_a.post(settings, json={"slowModeSeconds": 60}, headers=HOST)
    assert response.status_code == 200, response.text
    frame = await listener.next("roomSettings")  # set on A, heard by a socket on B
    assert frame["data"] == {"slowModeSeconds": 60}
    assert (await on_b.get(settings)).json()["slowModeSeconds"] == 60

    entry = {"churchId": "CH1", "conversationId": room["id"], "displayName": "V"}
    first = await on_a.post("/messages/send", json=[{**entry, "content": "via a"}])
    assert first.status_code == 200, first.text
    second = await on_b.post("/messages/send", json=[{**entry, "content": "via b"}])
    assert second.status_code == 429, second.text
    assert 0 < int(second.headers["retry-after"]) <= 60
    assert second.json()["limit"] == "slowMode"
    history = (await on_b.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["content"] for m in history] == ["via a"]
