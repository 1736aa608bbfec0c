"""The Expo push channel against an Expo push service on a real HTTPS port.

The client is a plain ``httpx.AsyncClient`` that trusts the test's CA through
``SSL_CERT_FILE``, as a deployment behind a private CA would.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.errors import ConfigError
from steeple.push.expo import (
    MAX_BATCH,
    ExpoPush,
    ExpoTicket,
    is_expo_push_token,
    receipts_url,
)
from steeple.push.message import PushMessage, PushOutcome
from steeple.settings import Settings
from tests.push.expo_ca import CertificateFiles
from tests.push.fake_expo import RECEIPTS_PATH, SEND_PATH, FakeExpo

ACCESS_TOKEN = "expo-access-token-0123456789"
ENV = {"JWT_SECRET": "s" * 32, "ENCRYPTION_KEY": "k" * 32}


def message(n: int = 0, *, urgent: bool = False) -> PushMessage:
    return PushMessage(
        title=f"New message from Ann {n}",
        body=f"See you at six {n}",
        link=f"https://app.church.test/messages/CONV{n}",
        badge=n % 7,
        topic=f"CH1|CONV{n}",
        urgent=urgent,
        ttl_seconds=3600,
    )


def token(n: int | str) -> str:
    return f"ExponentPushToken[dev-{n}]"


@pytest.fixture
async def client(
    certificates: CertificateFiles, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


def leaks_token(outcomes: object, tokens: list[str]) -> bool:
    text = repr(outcomes)
    return "PushToken" in text or any(t in text for t in tokens)


async def test_250_targets_go_in_batches_of_100_and_answer_in_order(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    tokens = [token(n) for n in range(250)]
    gone = {tokens[5], tokens[150], tokens[249]}
    expo.ticket_errors.update(dict.fromkeys(gone, "DeviceNotRegistered"))

    outcomes = await ExpoPush(client, expo.push_url).send([(t, message(1)) for t in tokens])

    batches = expo.sent()
    assert [len(batch) for batch in batches] == [100, 100, 50]
    assert [m["to"] for batch in batches for m in batch] == tokens
    assert len(outcomes) == 250
    for sent, outcome in zip(tokens, outcomes, strict=True):
        assert isinstance(outcome, ExpoTicket)
        assert outcome.host == "127.0.0.1"
        if sent in gone:
            assert (outcome.success, outcome.gone, outcome.error) == (
                False,
                True,
                "DeviceNotRegistered",
            )
            assert outcome.ticket_id == ""
        else:
            assert outcome.success and not outcome.gone and outcome.retry_after is None
            assert expo.ticket_tokens[outcome.ticket_id] == sent
    assert not leaks_token(outcomes, tokens)


async def test_a_full_batch_is_sent_gzipped_and_the_gzipped_answer_read(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    outcomes = await ExpoPush(client, expo.push_url).send(
        [(token(n), message(n)) for n in range(MAX_BATCH)]
    )

    (seen,) = expo.requests
    assert seen.headers["content-encoding"] == "gzip"
    assert seen.gzipped_answer
    assert all(outcome.success for outcome in outcomes)


async def test_the_message_carries_expo_fields_only(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    push = ExpoPush(client, expo.push_url)
    await push.send([(token("u"), message(3, urgent=True)), (token("n"), message(4))])

    (seen,) = expo.requests
    assert seen.status == 200, seen.problem
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["accept"] == "application/json"
    assert "gzip" in seen.headers["accept-encoding"]
    assert "authorization" not in seen.headers
    urgent, normal = seen.body
    assert urgent == {
        "to": token("u"),
        "title": "New message from Ann 3",
        "body": "See you at six 3",
        "data": {"link": "https://app.church.test/messages/CONV3"},
        "badge": 3,
        "sound": "default",
        "ttl": 3600,
        "priority": "high",
        "collapseId": "CH1|CONV3",
    }
    assert normal["priority"] == "default"


async def test_a_long_topic_is_a_short_collapse_id(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    long = PushMessage("t", "b", "l", 0, topic="CH1|" + "x" * 200)
    other = PushMessage("t", "b", "l", 0, topic="CH1|" + "x" * 199 + "y")
    await ExpoPush(client, expo.push_url).send(
        [(token(1), long), (token(2), other), (token(3), long)]
    )

    first, second, third = (m["collapseId"] for m in expo.sent()[0])
    assert len(first) <= 64 and first == third and first != second


async def test_the_access_token_is_sent_as_a_bearer_token(
    certificates: CertificateFiles, client: httpx.AsyncClient
) -> None:
    expo = FakeExpo(certificates, access_token=ACCESS_TOKEN)
    await expo.start()
    try:
        with_token = await ExpoPush(client, expo.push_url, ACCESS_TOKEN).send(
            [(token(1), message())]
        )
        without = await ExpoPush(client, expo.push_url).send([(token(2), message())])
    finally:
        await expo.stop()

    assert with_token[0].success
    assert expo.requests[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert without == [ExpoTicket("127.0.0.1", False, error="HTTP 401 UNAUTHORIZED")]
    assert [len(batch) for batch in expo.sent()] == [1]


async def test_429_asks_to_retry_after_what_expo_said_and_holds_the_later_batches(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    expo.answer_next(SEND_PATH, 429, {"Retry-After": "7"})
    push = ExpoPush(client, expo.push_url)
    targets = [(token(n), message()) for n in range(150)]

    outcomes = await push.send(targets)

    assert [seen.status for seen in expo.requests] == [429]
    assert len(outcomes) == 150
    assert all(o.retry_after == 7.0 and not o.success and not o.gone for o in outcomes)
    assert outcomes[0].error == "HTTP 429 RATE_LIMIT_EXCEEDED"
    again = await push.send(targets)
    assert all(outcome.success for outcome in again)
    assert [len(batch) for batch in expo.sent()] == [100, 50]


async def test_5xx_asks_to_retry_at_the_callers_backoff(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    expo.answer_next(SEND_PATH, 503)
    expo.answer_next(SEND_PATH, 502, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    push = ExpoPush(client, expo.push_url)

    first = await push.send([(token(1), message())])
    second = await push.send([(token(1), message())])

    assert first == [
        ExpoTicket("127.0.0.1", False, retry_after=0.0, error="HTTP 503 INTERNAL_SERVER_ERROR")
    ]
    assert second[0].retry_after == 0.0  # a date in the past: now
    assert second[0].error == "HTTP 502 INTERNAL_SERVER_ERROR"


async def test_per_message_errors_are_named_by_code_without_the_token(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    tokens = [token("rate"), token("big"), token("fine"), token("creds")]
    expo.ticket_errors.update(
        {
            tokens[0]: "MessageRateExceeded",
            tokens[1]: "MessageTooBig",
            tokens[3]: "InvalidCredentials",
        }
    )

    rate, big, fine, creds = await ExpoPush(client, expo.push_url).send(
        [(t, message()) for t in tokens]
    )

    assert (rate.success, rate.gone, rate.retry_after, rate.error) == (
        False,
        False,
        0.0,
        "MessageRateExceeded",
    )
    assert (big.gone, big.retry_after, big.error) == (False, None, "MessageTooBig")
    assert (creds.gone, creds.retry_after, creds.error) == (False, None, "InvalidCredentials")
    assert fine.success
    assert not leaks_token([rate, big, creds], tokens)


async def test_a_token_that_is_not_expos_gets_an_error_and_is_not_sent(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    bad = ["not-a-token", "ExponentPushToken[has space]", 'webpush:{"endpoint":"x"}', ""]
    targets = [(bad[0], message()), (token(1), message()), *((t, message()) for t in bad[1:])]
    push = ExpoPush(client, expo.push_url)

    outcomes = await push.send(targets)

    assert [m["to"] for batch in expo.sent() for m in batch] == [token(1)]
    refused = ExpoTicket("127.0.0.1", False, error="not an Expo push token")
    assert outcomes == [refused, outcomes[1], refused, refused, refused]
    assert outcomes[1].success
    assert await push.send([(t, message()) for t in bad]) == [refused] * 4
    assert len(expo.requests) == 1


def test_token_shapes() -> None:
    assert is_expo_push_token("ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]")
    assert is_expo_push_token("ExpoPushToken[AbC-123_x]")
    for bad in ("ExponentPushToken[]", "ExponentPushToken[a]b]", "exponentpushtoken[a]", "a"):
        assert not is_expo_push_token(bad)


async def test_receipts_say_what_became_of_each_message(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    tokens = [token("ok"), token("uninstalled"), token("too-big")]
    expo.receipt_errors.update({tokens[1]: "DeviceNotRegistered", tokens[2]: "MessageTooBig"})
    push = ExpoPush(client, expo.push_url)
    tickets = await push.send_tickets([(t, message()) for t in tokens])
    ids = [ticket.ticket_id for ticket in tickets]
    assert all(ticket.success for ticket in tickets)

    receipts = await push.receipts([*ids, "not-ready-yet", ids[0]])

    (asked,) = [seen for seen in expo.requests if seen.path == RECEIPTS_PATH]
    assert asked.body == {"ids": [*ids, "not-ready-yet"]}
    assert receipts == {
        ids[0]: PushOutcome("127.0.0.1", True),
        ids[1]: PushOutcome("127.0.0.1", False, gone=True, error="DeviceNotRegistered"),
        ids[2]: PushOutcome("127.0.0.1", False, error="MessageTooBig"),
    }
    assert not leaks_token(receipts, tokens)


async def test_receipts_are_asked_for_in_batches(expo: FakeExpo, client: httpx.AsyncClient) -> None:
    ids = [f"ticket-{n}" for n in range(700)]

    assert await ExpoPush(client, expo.push_url).receipts(ids) == {}

    asked = [seen.body["ids"] for seen in expo.requests if seen.path == RECEIPTS_PATH]
    assert [len(batch) for batch in asked] == [300, 300, 100]
    assert [i for batch in asked for i in batch] == ids


async def test_receipts_expo_could_not_give_are_asked_for_again(
    expo: FakeExpo, client: httpx.AsyncClient
) -> None:
    push = ExpoPush(client, expo.push_url)
    (ticket,) = await push.send_tickets([(token(1), message())])
    expo.answer_next(RECEIPTS_PATH, 429, {"Retry-After": "30"})

    first = await push.receipts([ticket.ticket_id])
    second = await push.receipts([ticket.ticket_id])

    assert first == {
        ticket.ticket_id: PushOutcome(
            "127.0.0.1", False, retry_after=30.0, error="HTTP 429 RATE_LIMIT_EXCEEDED"
        )
    }
    assert second == {ticket.ticket_id: PushOutcome("127.0.0.1", True)}


async def test_the_access_token_is_sent_for_receipts_too(
    certificates: CertificateFiles, client: httpx.AsyncClient
) -> None:
    expo = FakeExpo(certificates, access_token=ACCESS_TOKEN)
    await expo.start()
    try:
        push = ExpoPush(client, expo.push_url, ACCESS_TOKEN)
        (ticket,) = await push.send_tickets([(token(1), message())])
        receipts = await push.receipts([ticket.ticket_id])
    finally:
        await expo.stop()

    assert receipts == {ticket.ticket_id: PushOutcome("127.0.0.1", True)}
    assert all(seen.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for seen in expo.requests)


async def test_a_service_that_cannot_be_reached_asks_to_retry(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    push = ExpoPush(client, f"https://127.0.0.1:{port}/--/api/v2/push/send")

    outcomes = await push.send([(token(1), message())])
    receipts = await push.receipts(["some-ticket"])

    assert outcomes == [ExpoTicket("127.0.0.1", False, retry_after=0.0, error="ConnectError")]
    assert receipts["some-ticket"].retry_after == 0.0


async def test_a_service_whose_certificate_is_not_trusted_is_not_sent_to(
    expo: FakeExpo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    async with httpx.AsyncClient(timeout=10) as public_cas_only:
        outcomes = await ExpoPush(public_cas_only, expo.push_url).send([(token(1), message())])

    assert outcomes == [ExpoTicket("127.0.0.1", False, retry_after=0.0, error="ConnectError")]
    assert expo.sent() == []


# --- settings ------------------------------------------------------------------------


def test_settings_default_to_expos_endpoint_without_a_token() -> None:
    settings = Settings.from_env(ENV)
    assert settings.expo_push_url == "https://exp.host/--/api/v2/push/send"
    assert settings.expo_access_token == ""
    assert receipts_url(settings.expo_push_url) == "https://exp.host/--/api/v2/push/getReceipts"


async def test_settings_take_the_url_and_token_and_hide_the_token() -> None:
    settings = Settings.from_env(
        {
            **ENV,
            "EXPO_PUSH_URL": "https://push.church.test:8443/expo/push/send",
            "EXPO_ACCESS_TOKEN": ACCESS_TOKEN,
        }
    )
    async with httpx.AsyncClient() as http:
        push = ExpoPush.from_settings(http, settings)
    assert push.host == "push.church.test"
    assert settings.expo_access_token == ACCESS_TOKEN
    assert ACCESS_TOKEN not in repr(settings)
    assert (
        receipts_url(settings.expo_push_url)
        == "https://push.church.test:8443/expo/push/getReceipts"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://exp.host/--/api/v2/push/send",
        "exp.host/--/api/v2/push/send",
        "https:///--/api/v2/push/send",
        "https://user:pw@exp.host/--/api/v2/push/send",
        "https://exp.host/--/api/v2/push/send?x=1",
        "https://exp.host:notaport/send",
        "https://exp host/send",
    ],
)
def test_settings_refuse_a_push_url_that_is_not_plain_https(url: str) -> None:
    with pytest.raises(ConfigError, match="EXPO_PUSH_URL"):
        Settings.from_env({**ENV, "EXPO_PUSH_URL": url})


def test_settings_refuse_an_access_token_that_cannot_be_a_header() -> None:
    with pytest.raises(ConfigError, match="EXPO_ACCESS_TOKEN"):
        Settings.from_env({**ENV, "EXPO_ACCESS_TOKEN": "two words"})
    with pytest.raises(ConfigError, match="EXPO_ACCESS_TOKEN"):
        Settings.from_env({**ENV, "EXPO_ACCESS_TOKEN": "tok\u00e9n"})
