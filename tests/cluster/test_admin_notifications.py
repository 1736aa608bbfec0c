"""Admin notifications across nodes: the person's socket is on one node, the call on another."""

from __future__ import annotations

import pytest

from tests.support.cluster import Cluster
from tests.support.nodes import auth
from tests.support.steps import join

ADMIN = auth("CH1", "ADM", permissions=["Messaging__Admin"])


# A cluster needs a networked database; one kind is enough for this rule.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_send_test_and_create_reach_a_socket_held_by_another_node(cluster: Cluster) -> None:
    a, b = await cluster.start(2)
    bob = await cluster.socket(a)
    await join(cluster.http(a), bob, ("CH1", "alerts"), headers=auth("CH1", "P2"))
    tested = await cluster.http(b).post(
        "/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN
    )
    assert tested.json() == {"method": "socket", "success": True}
    await bob.next("notification")
    created = await cluster.http(b).post(
        "/notifications/create", json={"peopleIds": ["P2"], "message": "Hi"}, headers=ADMIN
    )
    assert [r["deliveryMethod"] for r in created.json()] == ["socket"]
    frame = await bob.next("notification")
    assert frame["data"]["counts"] == {"notificationCount": 1, "pmCount": 0}
