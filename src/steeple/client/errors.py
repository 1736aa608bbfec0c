"""The client's exception hierarchy: every failure a caller can act on, from one root.

::

    ClientError
    ├── TransportError          the server could not be reached or did not answer
    │   └── ConnectFailed       no connection was made: the request certainly was not sent
    ├── ProtocolError           the server answered something that is not the protocol
    ├── ApiError                the server refused the request (has ``status`` and ``body``)
    │   ├── BadRequestError     400: malformed input; ``problem`` names it
    │   ├── UnauthorizedError   401: denied by the access rules
    │   ├── ForbiddenError      403: e.g. a blocked address posting
    │   ├── NotFoundError       404
    │   ├── PayloadTooLargeError 413
    │   ├── TooManyRequestsError 429: over a limit (slow mode, rate limits); ``retry_after``
    │   └── ServerError         5xx
    └── SocketError             the WebSocket side
        └── SocketIdTimeout     no socketId within the handshake wait

The split between ``ConnectFailed`` and other transport errors matters to callers
that retry writes: only a request that never left can be re-sent without risking a
duplicate.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error ``steeple.client`` raises on purpose."""


class TransportError(ClientError):
    """The request may or may not have reached the server."""


class ConnectFailed(TransportError):
    """No connection was made, so the request was never sent."""


class ProtocolError(ClientError):
    """The server's answer does not follow the protocol."""


class ApiError(ClientError):
    """An HTTP error status with the server's JSON body."""

    status = 0

    def __init__(self, status: int, body: Any, method: str = "", path: str = "") -> None:
        self.status = status
        self.body = body
        self.method = method
        self.path = path
        self.problem = body.get("error", "") if isinstance(body, dict) else ""
        detail = f": {self.problem}" if self.problem else ""
        super().__init__(f"{method} {path} -> {status}{detail}".strip())


class BadRequestError(ApiError):
    """400."""


class UnauthorizedError(ApiError):
    """401: ChurchApps' denial (the body is ``{}`` or ``[]``)."""


class ForbiddenError(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404."""


class PayloadTooLargeError(ApiError):
    """413."""


class TooManyRequestsError(ApiError):
    """429: over a limit; nothing was done. Try again in ``retry_after`` seconds."""

    def __init__(
        self,
        status: int,
        body: Any,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, body, method, path)
        self.limit = str(body.get("limit") or "") if isinstance(body, dict) else ""
        self.retry_after = retry_after if retry_after is not None else _body_wait(body)


def _body_wait(body: Any) -> float | None:
    wait = body.get("retryAfter") if isinstance(body, dict) else None
    return float(wait) if isinstance(wait, int | float) and not isinstance(wait, bool) else None


class ServerError(ApiError):
    """5xx."""


class SocketError(ClientError):
    """The WebSocket could not be used."""


class SocketIdTimeout(SocketError):
    """The server did not send a socketId in time (or the socket is closed)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    413: PayloadTooLargeError,
}


def api_error(
    status: int, body: Any, method: str, path: str, retry_after: str | None = None
) -> ApiError:
    """The most specific :class:`ApiError` for an HTTP status (``retry_after``: the
    ``Retry-After`` header, if any)."""
    if status == 429:
        return TooManyRequestsError(status, body, method, path, _seconds(retry_after))
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return kind(status, body, method, path)


def _seconds(header: str | None) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is not used by Steeple."""
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None
