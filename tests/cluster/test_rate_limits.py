"""Rate limits across nodes: the buckets live in Redis, so two nodes behind a load
balancer hold an address to one allowance, not one per node.

Each refill is 100 s, so nothing comes back while the test runs and no clock is needed.
"""

from __future__ import annotations

import pytest
import redis.asyncio as redis_client

from steeple.settings import Rate
from tests.support.cluster import Cluster
from tests.support.services import REDIS_URL

SLOW = 0.01
"""One token per 100 s."""


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_nodes_share_one_posting_allowance(cluster: Cluster, prefix: str) -> None:
    a, b = await cluster.start(2, post_address=Rate(SLOW, 4))
    on_a, on_b = cluster.http(a), cluster.http(b)
    room = (await on_a.get("/conversations/current/CH1/streamingLive/svc1")).json()
    entry = {"churchId": "CH1", "conversationId": room["id"], "displayName": "V"}
    for n, http in enumerate([on_a, on_b, on_a, on_b]):
        sent = await http.post("/messages/send", json=[{**entry, "content": f"m{n}"}])
        assert sent.status_code == 200, sent.text
    for http in (on_a, on_b):
        refused = await http.post("/messages/send", json=[{**entry, "content": "over"}])
        assert refused.status_code == 429, refused.text
        assert refused.json()["limit"] == "post_address"
        assert 1 <= int(refused.headers["retry-after"]) <= 100
    history = (await on_b.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["content"] for m in history] == ["m0", "m1", "m2", "m3"]

    client = redis_client.Redis.from_url(REDIS_URL)
    try:  # the buckets are keys of this test's prefix, each with an expiry
        keys = [key async for key in client.scan_iter(match=f"{prefix}:rate:*")]
        assert keys and all([await client.pttl(key) > 0 for key in keys])
    finally:
        await client.aclose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_nodes_share_one_room_creation_allowance(cluster: Cluster) -> None:
    a, b = await cluster.start(2, create_address=Rate(SLOW, 2))
    on_a, on_b = cluster.http(a), cluster.http(b)
    assert (await on_a.get("/conversations/current/FAKE1/streamingLive/s")).status_code == 200
    assert (await on_b.get("/conversations/current/FAKE2/streamingLive/s")).status_code == 200
    refused = await on_a.get("/conversations/current/FAKE3/streamingLive/s")
    assert refused.status_code == 429, refused.text
    assert refused.json()["limit"] == "create_address"
    assert await a.store.conversations.for_content("FAKE3", "streamingLive", "s") == []
