"""The Web Push channel against the fake service, and the fake's own checks: a request
it would refuse in production (wrong VAPID key, a body for another browser, an
untrusted certificate) is refused here too, so the delivery tests prove something."""

from __future__ import annotations

import ssl
from datetime import datetime, time

import httpx
import pytest

from steeple.push.message import PushMessage
from steeple.push.subscription import WebPushSubscription
from steeple.push.vapid import VapidKeys
from steeple.push.web_push_channel import WebPushChannel, topic_header
from steeple.services.push_gates import PushGates
from tests.push.expo_ca import CertificateFiles as Certificates
from tests.push.fake_web_push import FakeWebPush

MESSAGE = PushMessage(title="Hi", body="Body", link="/messages/C1", badge=3, topic="C1")


def _token(subscription: dict[str, object]) -> str:
    return WebPushSubscription.parse(subscription).token()


async def _client(certificates: Certificates) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=ssl.create_default_context(cafile=certificates.ca_file))


async def test_a_push_arrives_decrypted_and_signed(
    push_service: FakeWebPush, certificates: Certificates, vapid: VapidKeys
) -> None:
    _, subscription = push_service.subscribe(vapid.public_key_b64)
    async with await _client(certificates) as client:
        channel = WebPushChannel(client, vapid, "https://church.test/contact")
        [outcome] = await channel.send([(_token(subscription), MESSAGE)])
    assert outcome.success and outcome.host == "127.0.0.1" and not outcome.gone
    assert push_service.pushes == [
        {"title": "Hi", "body": "Body", "link": "/messages/C1", "badge": 3}
    ]


async def test_the_fake_refuses_a_key_the_subscription_was_not_made_with(
    push_service: FakeWebPush, certificates: Certificates, vapid: VapidKeys
) -> None:
    _, subscription = push_service.subscribe(vapid.public_key_b64)
    async with await _client(certificates) as client:
        channel = WebPushChannel(client, VapidKeys.generate(), "mailto:a@church.test")
        [outcome] = await channel.send([(_token(subscription), MESSAGE)])
    assert not outcome.success and outcome.error == "HTTP 403" and outcome.retry_after is None
    assert "vapid" in push_service.requests[0].problem


async def test_the_fake_cannot_decrypt_a_body_meant_for_another_browser(
    push_service: FakeWebPush, certificates: Certificates, vapid: VapidKeys
) -> None:
    _, mine = push_service.subscribe(vapid.public_key_b64)
    _, theirs = push_service.subscribe(vapid.public_key_b64)
    swapped = {"endpoint": mine["endpoint"], "keys": theirs["keys"]}
    async with await _client(certificates) as client:
        channel = WebPushChannel(client, vapid, "mailto:a@church.test")
        [outcome] = await channel.send([(_token(swapped), MESSAGE)])
    assert outcome.error == "HTTP 400"
    assert "decrypt" in push_service.requests[0].problem


async def test_a_service_the_node_does_not_trust_is_not_pushed_to(
    push_service: FakeWebPush, vapid: VapidKeys
) -> None:
    _, subscription = push_service.subscribe(vapid.public_key_b64)
    async with httpx.AsyncClient() as client:  # the public CAs only
        channel = WebPushChannel(client, vapid, "mailto:a@church.test")
        [outcome] = await channel.send([(_token(subscription), MESSAGE)])
    assert not outcome.success and outcome.retry_after == 0.0
    assert outcome.error == "ConnectError"
    assert push_service.requests == []


def test_topics_are_32_url_safe_characters_one_per_conversation() -> None:
    first, again, other = topic_header("C" * 64), topic_header("C" * 64), topic_header("C2")
    assert first == again != other
    assert all(
        len(t) == 32 and t.replace("-", "").replace("_", "").isalnum() for t in (first, other)
    )


@pytest.mark.parametrize(
    ("start", "end", "now", "release"),
    [
        (time(22), time(7), datetime(2026, 7, 1, 4, 30), datetime(2026, 7, 1, 12, 0)),  # 23:30
        (time(22), time(7), datetime(2026, 7, 1, 8, 0), datetime(2026, 7, 1, 12, 0)),  # 03:00
        (time(22), time(7), datetime(2026, 7, 1, 12, 0), None),  # 07:00: over
        (time(9), time(17), datetime(2026, 7, 1, 15, 0), datetime(2026, 7, 1, 22, 0)),
        (time(9), time(9), datetime(2026, 7, 1, 15, 0), None),  # start = end: none
    ],
)
def test_quiet_hours_in_the_persons_time_zone(
    start: time, end: time, now: datetime, release: datetime | None
) -> None:
    """America/Chicago is UTC-5 in July."""
    gates = PushGates.of(
        {"quietHoursStart": start, "quietHoursEnd": end, "timeZone": "America/Chicago"}, {}
    )
    assert gates.quiet_until(now) == release


def test_a_day_starts_at_local_midnight() -> None:
    gates = PushGates.of({"timeZone": "Asia/Tokyo"}, {})
    assert gates.day_start(datetime(2026, 7, 1, 16, 0)) == datetime(2026, 7, 1, 15, 0)
    assert PushGates.of({}, {}).day_start(datetime(2026, 7, 1, 16, 0)) == datetime(2026, 7, 1)
