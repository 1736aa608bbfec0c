"""Web Push (RFC 8030) to browsers' subscriptions: VAPID-signed, ``aes128gcm``-encrypted.

The cryptography is the field's libraries': ``py-vapid`` signs the VAPID JWT
(RFC 8292) and ``http-ece`` encrypts the payload for the subscription's keys
(RFC 8291). This module only composes the request and reads the answer:

* ``TTL`` from the message, ``Urgency: high`` for private messages;
* ``Topic`` is the push service's collapse slot: one per conversation, so an unread
  busy thread shows one alert. RFC 8030 allows at most 32 base64url characters, so
  the conversation's topic is hashed to 24 bytes (32 characters);
* 404/410 mean the subscription is gone; 429 and 5xx ask to be retried, honouring
  ``Retry-After`` (seconds or an HTTP date); a timeout or a refused connection is
  retried too.

The VAPID ``exp`` is wall-clock time: it is checked by the push service's clock, not
ours, so it comes from ``time.time()`` and not the node's (test-driven) clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import http_ece
import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from steeple.push.message import PushMessage, PushOutcome
from steeple.push.subscription import TOKEN_PREFIX, WebPushSubscription
from steeple.push.vapid import VapidKeys, b64url_decode, b64url_encode

METHOD = "webPush"
"""``deliveryLogs.deliveryMethod`` of a web push attempt."""
JWT_LIFETIME = 12 * 3600
"""Well inside the 24 hours RFC 8292 allows, with room for clock skew."""
TOPIC_BYTES = 24
GONE = frozenset({404, 410})


def accepts(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def topic_header(topic: str) -> str:
    """32 base64url characters naming ``topic`` (RFC 8030 5.4)."""
    return b64url_encode(hashlib.blake2b(topic.encode(), digest_size=TOPIC_BYTES).digest())


def payload(message: PushMessage) -> bytes:
    """What the service worker receives (and shows) once the browser decrypts it."""
    document = {
        "title": message.title,
        "body": message.body,
        "link": message.link,
        "badge": message.badge,
    }
    return orjson.dumps(document)


class WebPushChannel:
    def __init__(self, client: httpx.AsyncClient, keys: VapidKeys, subject: str) -> None:
        self._client = client
        # VAPID_SUBJECT is checked by Settings (mailto: or https:); py-vapid's own check
        # would refuse an https: contact page with a path, which RFC 8292 allows.
        self._vapid = Vapid02(keys.private_key, conf={"no-strict": True})
        self._subject = subject

    async def send(self, targets: Sequence[tuple[str, PushMessage]]) -> list[PushOutcome]:
        return list(await asyncio.gather(*(self._send_one(t, m) for t, m in targets)))

    async def _send_one(self, token: str, message: PushMessage) -> PushOutcome:
        subscription = WebPushSubscription.from_token(token)
        if subscription is None:
            return PushOutcome(host="", success=False, gone=True, error="unreadable subscription")
        host = urlsplit(subscription.endpoint).hostname or ""
        try:
            response = await self._client.post(
                subscription.endpoint,
                content=encrypt(payload(message), subscription),
                headers=self._headers(subscription.endpoint, message),
            )
        except httpx.HTTPError as exc:
            # Only the kind of failure: an exception's text may carry the endpoint.
            return PushOutcome(host, False, retry_after=0.0, error=type(exc).__name__)
        return outcome(host, response)

    def _headers(self, endpoint: str, message: PushMessage) -> dict[str, str]:
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": self._subject,
            "exp": int(time.time()) + JWT_LIFETIME,
        }
        headers: dict[str, str] = dict(self._vapid.sign(claims))
        headers.update(
            {
                "TTL": str(message.ttl_seconds),
                "Topic": topic_header(message.topic),
                "Urgency": "high" if message.urgent else "normal",
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
            }
        )
        return headers


def encrypt(plaintext: bytes, subscription: WebPushSubscription) -> bytes:
    """RFC 8291: a fresh sender key and salt per message, the browser's keys as given."""
    sender = ec.generate_private_key(ec.SECP256R1())
    body: bytes = http_ece.encrypt(
        plaintext,
        salt=os.urandom(16),
        private_key=sender,
        dh=b64url_decode(subscription.p256dh),
        auth_secret=b64url_decode(subscription.auth),
        version="aes128gcm",
    )
    return body


def outcome(host: str, response: httpx.Response) -> PushOutcome:
    status = response.status_code
    if 200 <= status < 300:
        return PushOutcome(host, True)
    error = f"HTTP {status}"
    if status in GONE:
        return PushOutcome(host, False, gone=True, error=error)
    if status == 429 or status >= 500:
        return PushOutcome(host, False, retry_after=retry_after(response), error=error)
    return PushOutcome(host, False, error=error)


def retry_after(response: httpx.Response) -> float:
    """The ``Retry-After`` the service sent, in seconds; 0 when it gave none."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())
