"""A push service that never answers cannot delay message frames or grow memory.

``PUSH_POLICY=always`` makes every message push even to a person whose socket is
open, so the socket frames and the hung pushes race in the same node.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.node import Node
from steeple.push.vapid import VapidKeys
from tests.push.expo_ca import CertificateFiles as Certificates
from tests.push.fake_web_push import FakeWebPush
from tests.push.helpers import dispatcher, push_logs, push_settings, say, subscribe_browser
from tests.support.alert_steps import alerts_socket, open_thread
from tests.support.clocks import DrivenClock
from tests.support.wsclient import TestSocket

QUEUE = 2


@pytest.fixture
async def always_node(
    sqlite_url: str,
    vapid: VapidKeys,
    certificates: Certificates,
    clock: DrivenClock,
    push_service: FakeWebPush,
) -> AsyncIterator[Node]:
    settings = push_settings(
        sqlite_url,
        vapid,
        certificates,
        push_policy="always",
        push_queue_size=QUEUE,
        push_timeout=60.0,
    )
    running = Node(settings, clock=clock)
    await running.start()
    yield running
    push_service.release()
    await running.stop()


async def test_frames_arrive_while_the_push_service_hangs_and_the_queue_stays_bounded(
    always_node: Node, push_service: FakeWebPush
) -> None:
    push_service.hang_all = True
    async with httpx.AsyncClient(base_url=always_node.http_url + "/messaging") as http:
        await subscribe_browser(http, push_service, "P2")
        bob = await alerts_socket(http, await TestSocket.connect(always_node.socket_url), "P2")
        try:
            thread = await open_thread(http, "P1", "P2")
            await say(http, thread, "P1", "message 1")
            await push_service.wait_for(1)  # the only worker is now stuck on it
            for n in range(2, 6):
                await say(http, thread, "P1", f"message {n}")
            for n in range(1, 6):
                frame = await bob.next("privateMessage", lambda f, n=n: _says(f, f"message {n}"))
                assert frame["data"]["message"]["content"] == f"message {n}"
            # Every frame is in, and the push has not even timed out yet.
            assert push_service.hanging == 1 and push_service.requests == []
            assert await push_logs(always_node, "P2") == []
            push = dispatcher(always_node)
            assert push.queued == QUEUE and push.dropped == 5 - 1 - QUEUE
            metrics = (await http.get(always_node.http_url + "/metrics")).text
            assert "steeple_push_dropped 2.0" in metrics
        finally:
            await bob.close()


def _says(frame: dict[str, object], text: str) -> bool:
    data = frame["data"]
    return isinstance(data, dict) and data["message"]["content"] == text
