"""Presence across nodes: a socket on node A means no push from node B.

Node B finds the person's ``alerts`` connection rows in the shared database and asks
the cluster whether those sockets are live; only when none is does it push.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from steeple.push.vapid import VapidKeys
from tests.push.expo_ca import make_certificates
from tests.push.helpers import dispatcher, push_overrides, running, say, subscribe_browser
from tests.support.alert_steps import alerts_socket, open_thread
from tests.support.cluster import Cluster


# A cluster needs a networked database; one kind is enough for this rule.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_socket_on_node_a_means_no_push_from_node_b(
    cluster: Cluster, tmp_path: Path
) -> None:
    certificates = make_certificates(tmp_path)
    async with running(certificates) as push_service:
        a, b = await cluster.start(2, **push_overrides(VapidKeys.generate(), certificates))
        await subscribe_browser(cluster.http(b), push_service, "P2")
        bob = await alerts_socket(cluster.http(a), await cluster.socket(a), "P2")
        thread = await open_thread(cluster.http(b), "P1", "P2")
        await say(cluster.http(b), thread, "P1", "from node B")
        frame = await bob.next("privateMessage")
        assert frame["data"]["message"]["content"] == "from node B"
        await dispatcher(b).drained()
        assert push_service.requests == []
        await bob.close()
        await say(cluster.http(b), thread, "P1", "now nobody is online")
        delivered = await push_service.wait_for(1)
        assert [d.push["body"] for d in delivered if d.push] == ["now nobody is online"]
