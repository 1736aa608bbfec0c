"""Expo push through the dispatcher: B1Mobile's phones get the push where no socket
reaches the person, and phones Expo says are gone (in a ticket, or later in a
receipt) lose their ``devices`` row. The fake Expo service checks every request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.node import Node
from tests.push.expo_ca import CertificateFiles
from tests.push.fake_expo import FakeExpo
from tests.push.helpers import dispatcher, say
from tests.support.alert_steps import counts, open_thread
from tests.support.clocks import DrivenClock
from tests.support.nodes import auth, node_settings

PHONE = "ExponentPushToken[phone-of-p2]"


@pytest.fixture
async def expo_node(
    sqlite_url: str, certificates: CertificateFiles, clock: DrivenClock, expo: FakeExpo
) -> AsyncIterator[Node]:
    settings = node_settings(
        sqlite_url,
        expo_push_url=expo.push_url,
        ssl_cert_file=str(certificates.ca_file),
        push_workers=1,
    )
    running = Node(settings, clock=clock)
    await running.start()
    yield running
    await running.stop()


async def enroll(http: httpx.AsyncClient, person: str, token: str) -> None:
    body = {"fcmToken": token, "deviceId": f"{person}-phone"}
    response = await http.post("/devices/enroll", json=body, headers=auth("CH1", person))
    assert response.status_code == 200, response.text


async def test_a_phone_gets_the_push_with_the_badge(expo_node: Node, expo: FakeExpo) -> None:
    async with httpx.AsyncClient(base_url=expo_node.http_url + "/messaging") as http:
        await enroll(http, "P2", PHONE)
        thread = await open_thread(http, "P1", "P2")
        await say(http, thread, "P1", "Lunch after service?")
        await dispatcher(expo_node).drained()
        unread = await counts(http, "P2")
    [[message]] = expo.sent()
    assert message["to"] == PHONE
    assert message["title"] == "New message from Pat P1"
    assert message["body"] == "Lunch after service?"
    assert message["badge"] == sum(unread.values()) == 1
    logs = await expo_node.store.delivery_logs.for_person("CH1", "P2")
    assert [(r["deliveryMethod"], r["success"], r["deliveryAddress"]) for r in logs] == [
        ("push", True, "127.0.0.1")
    ]


async def test_device_not_registered_deletes_the_phone_at_once_or_from_its_receipt(
    expo_node: Node, expo: FakeExpo, clock: DrivenClock
) -> None:
    later = "ExponentPushToken[uninstalled-later]"
    expo.ticket_errors[PHONE] = "DeviceNotRegistered"
    expo.receipt_errors[later] = "DeviceNotRegistered"
    async with httpx.AsyncClient(base_url=expo_node.http_url + "/messaging") as http:
        await enroll(http, "P2", PHONE)
        await enroll(http, "P3", later)
        await say(http, await open_thread(http, "P1", "P2"), "P1", "Hello")
        await say(http, await open_thread(http, "P1", "P3"), "P1", "Hello")
        await dispatcher(expo_node).drained()
    assert await expo_node.store.devices.for_person("CH1", "P2") == []
    assert len(await expo_node.store.devices.for_person("CH1", "P3")) == 1  # ticket was ok
    clock.advance(16 * 60)  # receipts are read 15 minutes after the send
    assert await dispatcher(expo_node).flush()
    assert await expo_node.store.devices.for_person("CH1", "P3") == []
    logs = await expo_node.store.delivery_logs.for_person("CH1", "P3")
    assert sorted((r["success"], r["errorMessage"]) for r in logs) == [
        (False, "DeviceNotRegistered"),
        (True, None),
    ]
