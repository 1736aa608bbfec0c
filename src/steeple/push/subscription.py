"""A browser's push subscription, checked, and how it is kept in a ``devices`` row.

ChurchApps keeps web push subscriptions beside mobile devices: the ``devices`` row's
``fcmToken`` is ``webpush:`` followed by the subscription's JSON (endpoint first, as a
browser's ``JSON.stringify(subscription)`` writes it). Because the endpoint comes first
and is a JSON string, the prefix ``webpush:{"endpoint":"<endpoint>",`` identifies one
endpoint exactly, which is how a subscription is found again without parsing every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from steeple.errors import BadRequest
from steeple.push.vapid import PUBLIC_KEY_BYTES, b64url_decode

TOKEN_PREFIX = "webpush:"
MAX_ENDPOINT = 2048
AUTH_SECRET_BYTES = 16


@dataclass(frozen=True)
class WebPushSubscription:
    endpoint: str
    p256dh: str
    auth: str

    @classmethod
    def parse(cls, value: Any) -> WebPushSubscription:
        """``{endpoint, keys:{p256dh, auth}}``, checked; BadRequest names the problem."""
        if not isinstance(value, dict):
            raise BadRequest("'subscription' must be an object")
        keys = value.get("keys")
        if not isinstance(keys, dict):
            raise BadRequest("'subscription.keys' must be an object")
        return cls(
            endpoint=https_endpoint(value.get("endpoint")),
            p256dh=_client_key(keys.get("p256dh")),
            auth=_auth_secret(keys.get("auth")),
        )

    def token(self) -> str:
        """The ``fcmToken`` value that stores this subscription."""
        document = {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
        return TOKEN_PREFIX + orjson.dumps(document).decode()

    @classmethod
    def from_token(cls, token: str) -> WebPushSubscription | None:
        """The subscription an ``fcmToken`` holds; None if it is not a valid one."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        try:
            return cls.parse(orjson.loads(token[len(TOKEN_PREFIX) :]))
        except (orjson.JSONDecodeError, BadRequest):
            return None


def token_prefix(endpoint: str) -> str:
    """What every stored token of ``endpoint`` starts with, and no other endpoint's does."""
    return TOKEN_PREFIX + '{"endpoint":' + orjson.dumps(endpoint).decode() + ","


def https_endpoint(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest("'endpoint' must be a non-empty string")
    if len(value) > MAX_ENDPOINT:
        raise BadRequest(f"'endpoint' is longer than {MAX_ENDPOINT} characters")
    if any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in value):
        raise BadRequest("'endpoint' must be a plain URL")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise BadRequest("'endpoint' is not a URL") from None
    if parts.scheme != "https" or not host:
        raise BadRequest("'endpoint' must be an https:// URL")
    if "@" in parts.netloc:
        raise BadRequest("'endpoint' must not carry credentials")
    return value


def _client_key(value: Any) -> str:
    raw = _b64url(value, "p256dh")
    if len(raw) != PUBLIC_KEY_BYTES or raw[0] != 4:
        raise BadRequest("'p256dh' must be an uncompressed P-256 point (65 bytes)")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise BadRequest("'p256dh' is not a point on P-256") from None
    return str(value)


def _auth_secret(value: Any) -> str:
    if len(_b64url(value, "auth")) != AUTH_SECRET_BYTES:
        raise BadRequest(f"'auth' must be {AUTH_SECRET_BYTES} bytes")
    return str(value)


def _b64url(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or len(value) > 256:
        raise BadRequest(f"'{name}' must be a base64url string")
    try:
        return b64url_decode(value)
    except ValueError:
        raise BadRequest(f"'{name}' is not base64url") from None
