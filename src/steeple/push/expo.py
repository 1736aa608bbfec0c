"""Expo push: the phones of Expo apps (B1Mobile), through Expo's push HTTP API.

Expo takes at most 100 messages per request and answers with one *ticket* per
message, in order. An ``ok`` ticket only says Expo queued the message for Apple or
Google; whether they took it is known later from its *receipt* (``getReceipts``,
beside the push URL), usually within minutes, kept for about a day. So a send
returns :class:`ExpoTicket` outcomes that carry the receipt id, and
:meth:`ExpoPush.receipts` reads the receipts when the caller decides to.

What the service says is mapped onto :class:`PushOutcome`: ``DeviceNotRegistered``
(in a ticket or a receipt) means the device is gone; HTTP 429, 5xx, a transport
failure and a ticket's ``MessageRateExceeded`` ask to be retried (``Retry-After``
honoured); anything else is an error, named by Expo's code only. Expo's messages
can quote the token, and tokens never reach an outcome or a log: outcomes name the
push URL's host.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from steeple.push.message import PushMessage, PushOutcome
from steeple.settings import DEFAULT_EXPO_PUSH_URL, Settings

METHOD = "push"
"""``deliveryLogs.deliveryMethod`` of an Expo push attempt."""
DEFAULT_PUSH_URL = DEFAULT_EXPO_PUSH_URL
MAX_BATCH = 100
"""Messages per send request: Expo's documented limit."""
MAX_RECEIPT_BATCH = 300
"""Receipt ids per ``getReceipts`` request, the chunk Expo's own server SDK uses."""
GZIP_OVER = 1024
"""Request bodies longer than this are sent gzipped, as Expo's server SDK does."""
MAX_COLLAPSE_ID = 64
"""APNs refuses an ``apns-collapse-id`` longer than 64 bytes."""
GONE = "DeviceNotRegistered"
RATE_LIMITED = "MessageRateExceeded"

_TOKEN = re.compile(r"Expo(?:nent)?PushToken\[[!-Z^-~]{1,256}\]")
"""``ExponentPushToken[...]`` or ``ExpoPushToken[...]``: printable ASCII inside, no
brackets, no spaces."""


def is_expo_push_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


accepts = is_expo_push_token
"""Whether a device's ``fcmToken`` is Expo's (the dispatcher's channel test)."""


def receipts_url(push_url: str) -> str:
    """The ``getReceipts`` endpoint beside the push URL (``.../push/getReceipts``)."""
    parts = urlsplit(push_url)
    folder = parts.path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, folder + "/getReceipts", "", ""))


@dataclass(frozen=True)
class ExpoTicket(PushOutcome):
    """A :class:`PushOutcome` of one Expo message, with Expo's receipt id.

    ``ticket_id`` is set when Expo took the message (``success``); pass it to
    :meth:`ExpoPush.receipts` later to learn whether Apple or Google took it too.
    """

    ticket_id: str = ""


class ExpoPush:
    """Expo's push HTTP API over a shared ``httpx.AsyncClient`` (its TLS trust and
    timeouts are the client's). ``send`` and ``receipts`` never raise for Expo's
    answers or for network failures: every target gets an outcome."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        push_url: str = DEFAULT_PUSH_URL,
        access_token: str = "",
    ) -> None:
        self._client = client
        self._push_url = push_url
        self._receipts_url = receipts_url(push_url)
        self._access_token = access_token
        self.host = urlsplit(push_url).hostname or ""

    @classmethod
    def from_settings(cls, client: httpx.AsyncClient, settings: Settings) -> ExpoPush:
        """``EXPO_PUSH_URL`` and ``EXPO_ACCESS_TOKEN``, over the node's push client."""
        return cls(client, settings.expo_push_url, settings.expo_access_token)

    async def send(self, targets: Sequence[tuple[str, PushMessage]]) -> list[PushOutcome]:
        """One outcome per ``(token, message)``, in order; each is an :class:`ExpoTicket`."""
        outcomes: list[PushOutcome] = [*await self.send_tickets(targets)]
        return outcomes

    async def send_tickets(self, targets: Sequence[tuple[str, PushMessage]]) -> list[ExpoTicket]:
        """As :meth:`send`, typed. A token that is not Expo's gets an error and is not
        sent. Batches go one after another; once Expo asks to be retried (429, 5xx, no
        answer) the batches after it are not sent and get the same answer."""
        tickets: list[ExpoTicket | None] = [None] * len(targets)
        pending: list[int] = []
        for index, (token, _) in enumerate(targets):
            if is_expo_push_token(token):
                pending.append(index)
            else:
                tickets[index] = ExpoTicket(self.host, False, error="not an Expo push token")
        held: ExpoTicket | None = None
        for start in range(0, len(pending), MAX_BATCH):
            batch = pending[start : start + MAX_BATCH]
            if held is None:
                answers, held = await self._send_batch(targets, batch)
            else:
                answers = [held] * len(batch)
            for index, answer in zip(batch, answers, strict=True):
                tickets[index] = answer
        return [ticket for ticket in tickets if ticket is not None]

    async def receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushOutcome]:
        """What became of earlier messages, by ticket id.

        ``success``: Apple or Google took it; ``gone``: the device is not registered
        (delete it); ``retry_after`` set: Expo did not answer this time, ask again; an
        ``error`` otherwise. An id Expo has no receipt for (not ready yet, or older
        than about a day) is absent from the answer."""
        found: dict[str, PushOutcome] = {}
        ids = list(dict.fromkeys(ticket_ids))
        for start in range(0, len(ids), MAX_RECEIPT_BATCH):
            found.update(await self._receipt_batch(ids[start : start + MAX_RECEIPT_BATCH]))
        return found

    # --- one request -----------------------------------------------------------------

    async def _send_batch(
        self, targets: Sequence[tuple[str, PushMessage]], batch: list[int]
    ) -> tuple[list[ExpoTicket], ExpoTicket | None]:
        """The batch's tickets, and the answer to hold for the batches after it when
        Expo asked for the whole request to be retried."""
        body = [wire_message(*targets[index]) for index in batch]
        answer = await self._post(self._push_url, body)
        if isinstance(answer, PushOutcome):
            failed = _as_ticket(answer)
            return [failed] * len(batch), failed if answer.retry_after is not None else None
        data = answer.get("data")
        if not isinstance(data, list) or len(data) != len(batch):
            got = len(data) if isinstance(data, list) else "no"
            failed = ExpoTicket(self.host, False, error=f"{got} tickets for {len(batch)}")
            return [failed] * len(batch), None
        return [self._ticket(item) for item in data], None

    async def _receipt_batch(self, ids: list[str]) -> dict[str, PushOutcome]:
        answer = await self._post(self._receipts_url, {"ids": ids})
        if isinstance(answer, PushOutcome):
            return dict.fromkeys(ids, answer)
        data = answer.get("data")
        if not isinstance(data, dict):
            return dict.fromkeys(ids, PushOutcome(self.host, False, error="no receipts"))
        return {i: self._receipt(data[i]) for i in ids if isinstance(data.get(i), dict)}

    async def _post(self, url: str, document: Any) -> dict[str, Any] | PushOutcome:
        """Expo's JSON answer, or the outcome every message of a failed request gets."""
        content = orjson.dumps(document)
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
            "Content-Type": "application/json",
        }
        if len(content) > GZIP_OVER:
            content = gzip.compress(content)
            headers["Content-Encoding"] = "gzip"
        if self._access_token:
            headers["Authorization"] = f"Bearer {self._access_token}"
        try:
            response = await self._client.post(url, content=content, headers=headers)
            answer = orjson.loads(response.content) if response.content else None
        except httpx.HTTPError as exc:
            # Only the kind of failure: an exception's text may quote the request.
            return PushOutcome(self.host, False, retry_after=0.0, error=type(exc).__name__)
        except orjson.JSONDecodeError:
            answer = None
        return self._answer(response, answer)

    def _answer(self, response: httpx.Response, answer: Any) -> dict[str, Any] | PushOutcome:
        status = response.status_code
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if status == 429 or status >= 500:
            return PushOutcome(
                self.host, False, retry_after=retry_after(response), error=_error(status, errors)
            )
        if status != 200 or errors or not isinstance(answer, dict):
            return PushOutcome(self.host, False, error=_error(status, errors))
        return answer

    # --- what a ticket or a receipt says ---------------------------------------------

    def _ticket(self, item: Any) -> ExpoTicket:
        if not isinstance(item, dict):
            return ExpoTicket(self.host, False, error="unreadable ticket")
        if item.get("status") == "ok" and isinstance(item.get("id"), str):
            return ExpoTicket(self.host, True, ticket_id=item["id"])
        code = _code(item)
        if code == RATE_LIMITED:
            return ExpoTicket(self.host, False, retry_after=0.0, error=code)
        return ExpoTicket(self.host, False, gone=code == GONE, error=code)

    def _receipt(self, item: dict[str, Any]) -> PushOutcome:
        """A receipt is final: the message was delivered or it was not."""
        if item.get("status") == "ok":
            return PushOutcome(self.host, True)
        code = _code(item)
        return PushOutcome(self.host, False, gone=code == GONE, error=code)


def wire_message(token: str, message: PushMessage) -> dict[str, Any]:
    """One message as Expo's push API takes it (fields of Expo's ``ExpoPushMessage``)."""
    return {
        "to": token,
        "title": message.title,
        "body": message.body,
        "data": {"link": message.link},
        "badge": message.badge,
        "sound": "default",
        "ttl": message.ttl_seconds,
        "priority": "high" if message.urgent else "default",
        "collapseId": collapse_id(message.topic),
    }


def collapse_id(topic: str) -> str:
    """The conversation's collapse slot: the topic itself when APNs takes it as it is,
    else a digest of it (32 hex characters)."""
    if topic.isascii() and len(topic) <= MAX_COLLAPSE_ID:
        return topic
    return hashlib.blake2b(topic.encode(), digest_size=16).hexdigest()


def retry_after(response: httpx.Response) -> float:
    """The ``Retry-After`` Expo sent, in seconds (delay or HTTP date); 0 when none."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


def _code(item: dict[str, Any]) -> str:
    details = item.get("details")
    code = details.get("error") if isinstance(details, dict) else None
    return code if isinstance(code, str) and code else "ExpoError"


def _error(status: int, errors: Any) -> str:
    """``HTTP 400 VALIDATION_ERROR``: the status and Expo's first error code, never its
    message (which may quote a token)."""
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    return f"HTTP {status} {code}" if isinstance(code, str) and code else f"HTTP {status}"


def _as_ticket(outcome: PushOutcome) -> ExpoTicket:
    return ExpoTicket(
        outcome.host, outcome.success, outcome.gone, outcome.retry_after, outcome.error
    )
