"""The HTTP edge as an ASGI app: route, parse, call a service, answer JSON.

Errors map to statuses here and nowhere else: a RequestError becomes its status with
``{"error": problem}``; a denial is 401 ``Unauthorized`` with ``{}`` (``[]`` on list
routes), which is how ChurchApps clients recognise it; a limit is 429 with
``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from steeple.auth.principal import bearer_token, decode_token
from steeple.errors import (
    BadRequest,
    PayloadTooLarge,
    RequestError,
    RetryLater,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from steeple.protocol.close_codes import CloseCode
from steeple.protocol.frames import dumps
from steeple.storage.outage import RETRY_AFTER
from steeple.web.call import Call, ClientAddress, check_body_size
from steeple.web.router import Router

log = logging.getLogger(__name__)

WebSocketHandler = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Raw:
    """A non-JSON answer (pages, metrics)."""

    body: bytes
    media_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


JSON = "application/json"


def json_response(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status_code=status, media_type=JSON)


OutageCheck = Callable[[BaseException], bool]
"""Whether an exception means the database is unreachable (and notes the outage)."""


def retry_later(exc: RetryLater) -> Response:
    """429 or 503: the problem (and a limit's name) in the body, the wait in ``Retry-After``."""
    body: dict[str, Any] = {"error": exc.problem, "retryAfter": exc.retry_after}
    if isinstance(exc, TooManyRequests):
        body["limit"] = exc.limit
    response = json_response(body, exc.status)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


DATABASE_AWAY = ServiceUnavailable("the database is unreachable", retry_after=RETRY_AFTER)


class WebApp:
    def __init__(
        self,
        router: Router,
        jwt_secret: str,
        client_address: ClientAddress,
        websocket: WebSocketHandler | None = None,
        outage: OutageCheck = lambda exc: False,
        refused: Callable[[str], None] = lambda peer: None,
    ) -> None:
        self._router = router
        self._refused = refused
        self._outage = outage
        self._secret = jwt_secret
        self._address = client_address
        self._websocket = websocket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = await self._http(scope, receive)
            if 400 <= response.status_code < 500:
                self._refused((scope.get("client") or ("",))[0])
            await response(scope, receive, send)
        elif scope["type"] == "websocket" and self._websocket is not None:
            await self._websocket(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": CloseCode.POLICY_VIOLATION})

    async def _http(self, scope: Scope, receive: Receive) -> Response:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        raw_path = raw_path.partition("?")[0]
        found = self._router.resolve(scope["method"], raw_path)
        if found is None:
            return json_response({"error": f"no route for {scope['path']}"}, 404)
        if found is False:
            return json_response({"error": f"{scope['method']} is not allowed here"}, 405)
        assert not isinstance(found, bool)
        route, params = found
        try:
            call = await self._call(scope, receive, params)
            call.check_body()
            result = await route.handler(call)
            if isinstance(result, Raw):
                return Response(
                    result.body,
                    status_code=result.status,
                    media_type=result.media_type,
                    headers=result.headers,
                )
            return json_response(result)  # inside the try: an encoding bug still answers JSON
        except Unauthorized:
            return json_response([] if route.returns_list else {}, 401)
        except RetryLater as exc:
            return retry_later(exc)
        except RequestError as exc:
            return json_response({"error": exc.problem or type(exc).__name__}, exc.status)
        except Exception as exc:
            if self._outage(exc):
                return retry_later(DATABASE_AWAY)
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            return json_response({"error": "internal error"}, 500)

    async def _call(self, scope: Scope, receive: Receive, params: dict[str, str]) -> Call:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        check_body_size(int(headers.get("content-length") or 0))
        body = await _read_body(receive)
        peer = scope.get("client") or ("", 0)
        return Call(
            method=scope["method"],
            principal=decode_token(bearer_token(headers.get("authorization")), self._secret),
            params=params,
            query_string=scope.get("query_string", b""),
            address=self._address(peer[0], headers.get("x-forwarded-for")),
            body=body,
            content_type=headers.get("content-type", ""),
        )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # Gone (or timed out by TimedHttpProtocol) mid-body: never act on a partial body.
            raise BadRequest("the client went away before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        check_body_size(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


__all__ = ["JSON", "PayloadTooLarge", "Raw", "WebApp", "json_response"]
