"""Expo's push service in the test tree: real HTTPS on port 0, Expo's wire format.

Like ``exp.host`` it checks a request before taking it, and answers a bad one with
HTTP 400/401 and ``{"errors":[{code, message}]}``:

* ``POST``, ``Content-Type: application/json`` (``Content-Encoding: gzip`` allowed);
* ``Authorization: Bearer <access token>`` when the project has one;
* ``push/send``: a JSON array of 1 to 100 messages, each with a valid ``to`` push
  token and only the fields of Expo's ``ExpoPushMessage``, of the documented types;
* ``push/getReceipts``: ``{"ids": [...]}``, at most 1000 ids.

It answers one ticket per message, in order: ``ok`` with a fresh id, or an error for
tokens the test marked (``DeviceNotRegistered`` and the like, its message quoting the
token as Expo's does). A receipt is kept for every ``ok`` ticket, an error one for
tokens marked to fail later. The test can also queue whole-request answers (429 with
``Retry-After``, 5xx), given after the request has been checked. Answers are gzipped
when the client accepts gzip.
"""

from __future__ import annotations

import gzip
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.push.expo_ca import CertificateFiles
from tests.push.tls_server import TlsServer

SEND_PATH = "/--/api/v2/push/send"
RECEIPTS_PATH = "/--/api/v2/push/getReceipts"
MAX_MESSAGES = 100
MAX_RECEIPT_IDS = 1000
TOKEN = re.compile(r"Expo(nent)?PushToken\[[^\[\]\s]+\]")
FIELDS: dict[str, type | tuple[type, ...]] = {
    "to": str,
    "data": dict,
    "title": str,
    "subtitle": str,
    "body": str,
    "sound": (str, type(None), dict),
    "ttl": int,
    "expiration": int,
    "priority": str,
    "interruptionLevel": str,
    "badge": int,
    "channelId": str,
    "icon": str,
    "richContent": dict,
    "categoryId": str,
    "mutableContent": bool,
    "collapseId": str,
    "tag": str,
    "_contentAvailable": bool,
}
"""``ExpoPushMessage`` of Expo's server SDK (expo-server-sdk-node 6.1)."""
PRIORITIES = ("default", "normal", "high")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request as it arrived: what it carried and what it was answered."""

    path: str
    headers: dict[str, str]
    body: Any = None
    status: int = 0
    problem: str = ""
    gzipped_answer: bool = False


class FakeExpo:
    def __init__(self, certificates: CertificateFiles, access_token: str = "") -> None:
        self._certificates = certificates
        self.access_token = access_token
        self.requests: list[Seen] = []
        self.ticket_errors: dict[str, str] = {}
        """token -> the error code its ticket carries (``DeviceNotRegistered`` ...)."""
        self.receipt_errors: dict[str, str] = {}
        """token -> the error code its receipt carries (its ticket is ``ok``)."""
        self.receipts: dict[str, dict[str, Any]] = {}
        self.ticket_tokens: dict[str, str] = {}
        """ticket id -> the token it was issued for."""
        self._answers: dict[str, deque[Answer]] = {SEND_PATH: deque(), RECEIPTS_PATH: deque()}
        self._tls: TlsServer | None = None
        self.port = 0

    @property
    def push_url(self) -> str:
        return f"https://127.0.0.1:{self.port}{SEND_PATH}"

    def answer_next(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        """The next request to ``path`` is checked, then answered ``status``."""
        self._answers[path].append(Answer(status, headers or {}))

    def sent(self) -> list[list[dict[str, Any]]]:
        """The message batches Expo took, in arrival order."""
        return [
            seen.body for seen in self.requests if seen.path == SEND_PATH and seen.status == 200
        ]

    # --- the two endpoints -----------------------------------------------------------

    async def _send(self, request: Request) -> Response:
        return await self._handle(request, self._tickets)

    async def _get_receipts(self, request: Request) -> Response:
        return await self._handle(request, self._receipt_answer)

    async def _handle(self, request: Request, answer: Any) -> Response:
        seen = Seen(request.url.path, {k.lower(): v for k, v in request.headers.items()})
        self.requests.append(seen)
        try:
            self._check_headers(seen.headers)
            seen.body = _json(await request.body(), seen.headers)
            document = answer(seen.body)
        except Refused as refused:
            seen.status, seen.problem = refused.status, str(refused)
            errors = {"errors": [{"code": refused.code, "message": str(refused)}]}
            return self._respond(seen, refused.status, errors)
        queued = self._answers[seen.path]
        if queued:
            scripted = queued.popleft()
            seen.status = scripted.status
            errors = {"errors": [{"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}]}
            if scripted.status >= 500:
                errors = {"errors": [{"code": "INTERNAL_SERVER_ERROR", "message": "oops"}]}
            return self._respond(seen, scripted.status, errors, scripted.headers)
        seen.status = 200
        return self._respond(seen, 200, document)

    def _check_headers(self, headers: dict[str, str]) -> None:
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Refused(400, "VALIDATION_ERROR", "Content-Type must be application/json")
        if self.access_token and headers.get("authorization") != f"Bearer {self.access_token}":
            raise Refused(401, "UNAUTHORIZED", "this project requires an access token")

    def _tickets(self, body: Any) -> dict[str, Any]:
        messages = body if isinstance(body, list) else [body]
        if not 1 <= len(messages) <= MAX_MESSAGES:
            raise Refused(400, "PUSH_TOO_MANY_NOTIFICATIONS", f"{len(messages)} messages")
        for message in messages:
            _check_message(message)
        return {"data": [self._ticket(message["to"]) for message in messages]}

    def _ticket(self, token: str) -> dict[str, Any]:
        code = self.ticket_errors.get(token)
        if code:
            return {
                "status": "error",
                "message": f'"{token}" is not a registered push notification recipient',
                "details": {"error": code, "expoPushToken": token},
            }
        ticket_id = str(uuid.uuid4())
        self.ticket_tokens[ticket_id] = token
        later = self.receipt_errors.get(token)
        self.receipts[ticket_id] = (
            {"status": "error", "message": f"{token} failed", "details": {"error": later}}
            if later
            else {"status": "ok"}
        )
        return {"status": "ok", "id": ticket_id}

    def _receipt_answer(self, body: Any) -> dict[str, Any]:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise Refused(400, "VALIDATION_ERROR", '"ids" must be an array of strings')
        if len(ids) > MAX_RECEIPT_IDS:
            raise Refused(400, "VALIDATION_ERROR", f"at most {MAX_RECEIPT_IDS} ids")
        return {"data": {i: self.receipts[i] for i in ids if i in self.receipts}}

    def _respond(
        self,
        seen: Seen,
        status: int,
        document: Any,
        headers: dict[str, str] | None = None,
    ) -> Response:
        content = orjson.dumps(document)
        chosen = {"Content-Type": "application/json", **(headers or {})}
        if "gzip" in seen.headers.get("accept-encoding", ""):
            content = gzip.compress(content)
            chosen["Content-Encoding"] = "gzip"
            seen.gzipped_answer = True
        return Response(content, status_code=status, headers=chosen)

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route(SEND_PATH, self._send, methods=["POST"]),
                Route(RECEIPTS_PATH, self._get_receipts, methods=["POST"]),
            ]
        )
        self._tls = TlsServer(app, self._certificates)
        self.port = await self._tls.start()

    async def stop(self) -> None:
        if self._tls is not None:
            await self._tls.stop()


def _json(raw: bytes, headers: dict[str, str]) -> Any:
    if headers.get("content-encoding") == "gzip":
        try:
            raw = gzip.decompress(raw)
        except OSError:
            raise Refused(400, "VALIDATION_ERROR", "body is not gzip") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Refused(400, "VALIDATION_ERROR", "body is not JSON") from None


def _check_message(message: Any) -> None:
    if not isinstance(message, dict):
        raise Refused(400, "VALIDATION_ERROR", "a message must be an object")
    unknown = set(message) - set(FIELDS)
    if unknown:
        raise Refused(400, "VALIDATION_ERROR", f"unknown fields {sorted(unknown)}")
    for name, value in message.items():
        wanted = FIELDS[name]
        if not isinstance(value, wanted) or (isinstance(value, bool) and wanted is int):
            raise Refused(400, "VALIDATION_ERROR", f'"{name}" has the wrong type')
    token = message.get("to")
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise Refused(400, "VALIDATION_ERROR", '"to" must be an Expo push token')
    if message.get("priority", "default") not in PRIORITIES:
        raise Refused(400, "VALIDATION_ERROR", f'"priority" must be one of {PRIORITIES}')
    for name in ("badge", "ttl"):
        if message.get(name, 0) < 0:
            raise Refused(400, "VALIDATION_ERROR", f'"{name}" must not be negative')
