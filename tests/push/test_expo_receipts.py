"""Tickets remembered after a send, their receipts read when due, against the fake Expo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from steeple.push.expo import ExpoPush, ExpoTicket
from steeple.push.expo_receipts import ExpoReceipts
from steeple.push.message import PushMessage, PushOutcome
from tests.push.expo_ca import CertificateFiles
from tests.push.fake_expo import RECEIPTS_PATH, FakeExpo

SENT = datetime(2026, 12, 6, 9, 30)
MESSAGE = PushMessage("New message from Ann", "Hi", "https://app.test/m/C1", 1, "CH1|C1")
HOST = "127.0.0.1"


def token(name: str) -> str:
    return f"ExponentPushToken[{name}]"


@pytest.fixture
async def push(
    expo: FakeExpo, certificates: CertificateFiles, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ExpoPush]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    async with httpx.AsyncClient(timeout=10) as client:
        yield ExpoPush(client, expo.push_url)


def asked(expo: FakeExpo) -> list[list[str]]:
    return [seen.body["ids"] for seen in expo.requests if seen.path == RECEIPTS_PATH]


async def test_receipts_are_read_when_due_and_say_which_devices_are_gone(
    expo: FakeExpo, push: ExpoPush
) -> None:
    expo.receipt_errors.update(
        {token("uninstalled"): "DeviceNotRegistered", token("big"): "MessageTooBig"}
    )
    names = ["fine", "uninstalled", "big"]
    tickets = await push.send_tickets([(token(n), MESSAGE) for n in names])
    receipts: ExpoReceipts[str] = ExpoReceipts(push)
    for name, ticket in zip(names, tickets, strict=True):
        receipts.remember(ticket, name, SENT)

    assert await receipts.check(SENT + timedelta(minutes=14)) == []
    assert asked(expo) == []
    settled = await receipts.check(SENT + timedelta(minutes=15))

    assert settled == [
        ("fine", PushOutcome(HOST, True)),
        ("uninstalled", PushOutcome(HOST, False, gone=True, error="DeviceNotRegistered")),
        ("big", PushOutcome(HOST, False, error="MessageTooBig")),
    ]
    assert len(receipts) == 0
    assert await receipts.check(SENT + timedelta(hours=1)) == []
    assert len(asked(expo)) == 1


async def test_a_receipt_not_ready_is_asked_again_later_until_expo_forgets_it(
    expo: FakeExpo, push: ExpoPush
) -> None:
    receipts: ExpoReceipts[str] = ExpoReceipts(push)
    receipts.remember(ExpoTicket(HOST, True, ticket_id="not-ready"), "late", SENT)

    assert await receipts.check(SENT + timedelta(minutes=15)) == []
    assert await receipts.check(SENT + timedelta(minutes=20)) == []
    assert await receipts.check(SENT + timedelta(minutes=30)) == []
    assert asked(expo) == [["not-ready"], ["not-ready"]]
    assert len(receipts) == 1
    assert await receipts.check(SENT + timedelta(hours=24)) == []
    assert len(receipts) == 0
    assert len(asked(expo)) == 2


async def test_when_expo_cannot_answer_the_receipt_is_kept(expo: FakeExpo, push: ExpoPush) -> None:
    (ticket,) = await push.send_tickets([(token("fine"), MESSAGE)])
    receipts: ExpoReceipts[str] = ExpoReceipts(push)
    receipts.remember(ticket, "fine", SENT)
    expo.answer_next(RECEIPTS_PATH, 503)

    assert await receipts.check(SENT + timedelta(minutes=15)) == []
    assert await receipts.check(SENT + timedelta(minutes=30)) == [("fine", PushOutcome(HOST, True))]


async def test_only_accepted_tickets_are_kept_and_the_oldest_go_past_the_limit(
    expo: FakeExpo, push: ExpoPush
) -> None:
    receipts: ExpoReceipts[int] = ExpoReceipts(push, limit=2)
    receipts.remember(ExpoTicket(HOST, False, gone=True, error="DeviceNotRegistered"), 0, SENT)
    for n in range(1, 4):
        receipts.remember(ExpoTicket(HOST, True, ticket_id=f"t{n}"), n, SENT)

    assert len(receipts) == 2
    assert await receipts.check(SENT + timedelta(minutes=15)) == []
    assert asked(expo) == [["t2", "t3"]]
