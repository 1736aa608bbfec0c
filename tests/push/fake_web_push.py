"""A Web Push service in the test tree: real HTTPS on port 0, the real wire format.

Like a browser vendor's push service it checks every request before taking it:

* ``Authorization: vapid t=<JWT>,k=<key>`` (RFC 8292): the JWT's ES256 signature
  against ``k``, ``k`` equal to the application server key the subscription was made
  with, ``aud`` the endpoint's origin, ``exp`` in the future and at most 24 hours
  ahead, ``sub`` a mailto: or https: contact;
* ``Content-Encoding: aes128gcm``, ``TTL``, and a ``Topic`` of at most 32 base64url
  characters (RFC 8030);
* the body **decrypts** with the subscription's private key (the "browser" the test
  made), and the plaintext is recorded: what the phone would show.

It can be told to answer a status (410, 429 with ``Retry-After``), or to never answer.
A request that fails a check is answered 400/401/403 and recorded with its problem.
"""

from __future__ import annotations

import asyncio
import binascii
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steeple.push.vapid import b64url_decode
from tests.push.browser import BrowserKeys
from tests.push.expo_ca import CertificateFiles as Certificates
from tests.push.tls_server import TlsServer

TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_EXP = 24 * 3600


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass
class Delivered:
    """One request the service took apart."""

    subscription: str
    headers: dict[str, str]
    status: int
    push: dict[str, Any] | None = None
    """The decrypted payload, when the request passed every check."""
    problem: str = ""


@dataclass
class Subscriber:
    keys: BrowserKeys
    application_server_key: str


class FakeWebPush:
    def __init__(self, certificates: Certificates) -> None:
        self._certificates = certificates
        self._subscribers: dict[str, Subscriber] = {}
        self.answers: deque[Answer] = deque()
        """Answers to give, in order; 201 once they run out."""
        self.hang_all = False
        self.requests: list[Delivered] = []
        self.hanging = 0
        self._arrived = asyncio.Condition()
        self._released = asyncio.Event()
        self._tls: TlsServer | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def subscribe(self, application_server_key: str) -> tuple[BrowserKeys, dict[str, Any]]:
        """A new browser subscription: its keys and the JSON the page hands the server."""
        keys = BrowserKeys()
        name = secrets.token_urlsafe(12)
        self._subscribers[name] = Subscriber(keys, application_server_key)
        return keys, keys.subscription(f"{self.origin}/push/{name}")

    @property
    def pushes(self) -> list[dict[str, Any]]:
        """The decrypted payloads the service accepted (2xx), in arrival order."""
        return [d.push for d in self.requests if d.push is not None and d.status < 300]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivered]:
        """Wait until ``count`` requests (hung ones included) have arrived."""

        async def enough() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) + self.hanging >= count)

        await asyncio.wait_for(enough(), timeout)
        return self.requests

    async def _push(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = self.answers.popleft() if self.answers else Answer(201)
        if self.hang_all or answer.hang:
            async with self._arrived:
                self.hanging += 1
                self._arrived.notify_all()
            await self._released.wait()
            return Response(status_code=503)
        delivered = self._check(name, headers, body, self.origin)
        if delivered.problem:
            delivered.status = 403 if "vapid" in delivered.problem else 400
        else:
            delivered.status = answer.status
        async with self._arrived:
            self.requests.append(delivered)
            self._arrived.notify_all()
        return Response(status_code=delivered.status, headers=answer.headers)

    def _check(self, name: str, headers: dict[str, str], body: bytes, origin: str) -> Delivered:
        delivered = Delivered(name, headers, 0)
        subscriber = self._subscribers.get(name)
        if subscriber is None:
            delivered.problem = "unknown subscription"
            return delivered
        try:
            _check_vapid(headers.get("authorization", ""), subscriber, origin)
            _check_headers(headers)
            plaintext = subscriber.keys.decrypt(body)
            delivered.push = orjson.loads(plaintext)
        except (ValueError, KeyError, jwt.PyJWTError, binascii.Error) as exc:
            delivered.problem = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # http_ece raises its own exception type
            delivered.problem = f"decryption: {exc}"
        return delivered

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(routes=[Route("/push/{name}", self._push, methods=["POST"])])
        self._tls = TlsServer(app, self._certificates)
        self.port = await self._tls.start()

    def release(self) -> None:
        """Let hung requests answer (503)."""
        self._released.set()

    async def stop(self) -> None:
        self.release()
        if self._tls is not None:
            await self._tls.stop()


def _check_vapid(authorization: str, subscriber: Subscriber, origin: str) -> None:
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"vapid: scheme {scheme!r}, not 'vapid'")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    if key != subscriber.application_server_key:
        raise ValueError("vapid: k is not the key the subscription was made with")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    claims = jwt.decode(
        token,
        key=public,
        algorithms=["ES256"],
        audience=origin,
        options={"require": ["exp", "aud", "sub"]},
    )
    if claims["exp"] - time.time() > MAX_EXP:
        raise ValueError("vapid: exp is more than 24 hours ahead")
    if not str(claims["sub"]).startswith(("mailto:", "https://")):
        raise ValueError("vapid: sub is not a mailto: or https: contact")


def _check_headers(headers: dict[str, str]) -> None:
    if headers.get("content-encoding") != "aes128gcm":
        raise ValueError("Content-Encoding must be aes128gcm")
    if not headers.get("ttl", "").isdigit():
        raise ValueError("TTL must be a number of seconds")
    topic = headers.get("topic")
    if topic is not None and not TOPIC.fullmatch(topic):
        raise ValueError("Topic must be at most 32 base64url characters")
    if headers.get("urgency", "normal") not in ("very-low", "low", "normal", "high"):
        raise ValueError("Urgency is not one of RFC 8030's")
