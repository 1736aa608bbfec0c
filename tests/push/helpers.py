"""Steps the push tests share: a browser subscribes, a person posts, a person is quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from steeple.node import Node
from steeple.push.vapid import VapidKeys
from steeple.services.push_dispatcher import PushDispatcher
from steeple.storage.rows import DeliveryLogRow
from tests.push.browser import BrowserKeys
from tests.push.expo_ca import CertificateFiles
from tests.push.fake_web_push import FakeWebPush
from tests.support.nodes import auth, node_settings
from tests.support.steps import post

ADMIN = auth("CH1", "ADM", permissions=["Messaging__Admin"])


def push_overrides(vapid: VapidKeys, certificates: CertificateFiles) -> dict[str, Any]:
    """Web push on, trusting the test CA, one worker (pushes handled in the order raised)
    and a quick look for held pushes."""
    return {
        "vapid_private_key": vapid.private_key_b64,
        "vapid_subject": "mailto:pastor@church.test",
        "ssl_cert_file": str(certificates.ca_file),
        "push_workers": 1,
        "push_release_interval": 0.05,
    }


def push_settings(
    database_url: str, vapid: VapidKeys, certificates: CertificateFiles, **overrides: Any
) -> Any:
    return node_settings(database_url, **{**push_overrides(vapid, certificates), **overrides})


@asynccontextmanager
async def running(certificates: CertificateFiles) -> AsyncIterator[FakeWebPush]:
    """A fake Web Push service serving with the test CA's certificate."""
    service = FakeWebPush(certificates)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def subscribe_browser(
    http: httpx.AsyncClient, service: FakeWebPush, person: str, church: str = "CH1"
) -> BrowserKeys:
    """The page's steps: fetch the server's key, subscribe with it, hand the server the
    subscription."""
    key = (await http.get("/webpush/publicKey")).json()
    assert key["enabled"] is True
    keys, subscription = service.subscribe(key["publicKey"])
    body = {"subscription": subscription, "appName": "B1App", "label": "Chrome"}
    response = await http.post("/webpush/subscribe", json=body, headers=auth(church, person))
    assert response.json()["success"] is True, response.text
    return keys


def dispatcher(node: Node) -> PushDispatcher:
    push = node.services.push
    assert push is not None
    return push


async def push_logs(node: Node, person: str, church: str = "CH1") -> list[DeliveryLogRow]:
    """The person's web push attempts, oldest first."""
    rows = await node.store.delivery_logs.for_person(church, person)
    return sorted(
        (r for r in rows if r["deliveryMethod"] == "webPush"), key=lambda r: r["attemptTime"]
    )


async def say(
    http: httpx.AsyncClient, thread: dict[str, Any], sender: str, text: str
) -> dict[str, Any]:
    """``sender`` posts ``text`` in the private thread."""
    room = {"id": thread["conversationId"], "churchId": "CH1"}
    return await post(http, room, text, headers=auth("CH1", sender))


async def prefer(http: httpx.AsyncClient, person: str, **fields: Any) -> None:
    response = await http.post("/notificationPreferences", json=fields, headers=auth("CH1", person))
    assert response.status_code == 200, response.text
