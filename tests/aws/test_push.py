"""Push on AWS: a live API Gateway connection means no push; none means a push, sent
before the Lambda invocation returns (a frozen container runs no workers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from steeple.push.vapid import VapidKeys
from steeple.settings import Settings
from tests.aws.conftest import MakeGateway
from tests.aws.gateway import GatewaySocket
from tests.issue3.helpers import alerts_socket, open_thread
from tests.push.conftest import certificates, push_service, vapid
from tests.push.fake_web_push import FakeWebPush
from tests.push.helpers import ADMIN, say, subscribe_browser
from tests.push.tls import Certificates

__all__ = ["certificates", "push_service", "vapid"]  # the push fixtures, used here


async def test_a_live_connection_means_no_push_and_none_means_a_push(
    make_gateway: MakeGateway,
    settings: Settings,
    push_service: FakeWebPush,
    vapid: VapidKeys,
    certificates: Certificates,
) -> None:
    gateway = await make_gateway(
        settings.override(
            vapid_private_key=vapid.private_key_b64, ssl_cert_file=str(certificates.ca_file)
        )
    )
    open_socket: Callable[[], Awaitable[GatewaySocket]] = gateway.open_socket
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
