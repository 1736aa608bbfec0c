"""Push on AWS: a live API Gateway connection means no push; none means a push, sent
before the Lambda invocation returns (a frozen container runs no workers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steeple.push.vapid import VapidKeys
from steeple.settings import Settings
from tests.aws.conftest import MakeGateway
from tests.push.expo_ca import make_certificates
from tests.push.fake_web_push import FakeWebPush
from tests.push.helpers import ADMIN, push_overrides, running, say, subscribe_browser
from tests.support.alert_steps import alerts_socket, open_thread


async def test_a_live_connection_means_no_push_and_none_means_a_push(
    make_gateway: MakeGateway, settings: Settings, tmp_path: Path
) -> None:
    certificates = make_certificates(tmp_path)
    push = push_overrides(VapidKeys.generate(), certificates)
    async with running(certificates) as push_service:
        gateway = await make_gateway(settings.override(**push))
        await _scenario(gateway, push_service)


async def _scenario(gateway: Any, push_service: FakeWebPush) -> None:
    open_socket = gateway.open_socket
    async with gateway.client() as http:
        await subscribe_browser(http, push_service, "P2")
        bob = await alerts_socket(http, await open_socket(), "P2")
        thread = await open_thread(http, "P1", "P2")
        await say(http, thread, "P1", "while connected")
        await bob.next("privateMessage")
        assert push_service.requests == []  # the invocation is over: nothing was pushed
        await bob.close()
        await say(http, thread, "P1", "after closing")
        assert [p["body"] for p in push_service.pushes] == ["after closing"]
        tested = await http.post("/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN)
        assert tested.json() == {"method": "push", "success": True}
