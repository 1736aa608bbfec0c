"""Over Redis, a join posted to one node for a socket on another gets its own snapshot."""

from __future__ import annotations

from steeple.node import Node
from tests.support.cluster import SHARED_DATABASES, Cluster
from tests.support.steps import join, live_room, send, shows, viewers

HOUR = 3600.0
"""The room's attendance broadcast is an hour away: a frame before it is a snapshot."""


@SHARED_DATABASES
async def test_a_join_through_another_node_gets_its_snapshot_at_once(cluster: Cluster) -> None:
    a, b = await cluster.start(2, attendance_interval=HOUR)
    room = await live_room(cluster.http(a))
    ann, bob = await cluster.socket(a), await cluster.socket(a)
    await join(cluster.http(a), ann, room, "Ann")
    await ann.next("attendance", shows("Ann"))
    await join(cluster.http(b), bob, room, "Bob")  # b asks a to join Bob, then tells him
    mine = await bob.next("attendance")
    assert viewers(mine) == ["Ann", "Bob"] and mine["data"]["totalViewers"] == 2
    assert (await bob.next("blockedIp"))["data"] == []
    marker = await send(cluster.http(b), room, "marker")  # after Bob's frames, from b too
    await ann.next("message", lambda f: f["data"]["id"] == marker["id"])
    assert ann.pending("attendance") == []  # Bob's snapshot was his alone
    await drain(b)
    await ann.next("attendance", shows("Ann", "Bob"))  # the room's broadcast, from b


async def drain(node: Node) -> None:
    """Send the node's paced attendance now instead of in an hour."""
    await node.ctx.attendance.drain()
