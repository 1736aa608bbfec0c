"""Headers every answer carries, whatever produced it (routes, errors, 404s, CORS).

``X-Content-Type-Options: nosniff`` stops a browser from running a JSON answer (say,
a message whose content looks like HTML or script) as something else.
``Referrer-Policy: no-referrer``: nothing Steeple serves needs the Referer, and the
page's address names the church and the service a viewer watches, which a link
posted in the chat should not tell the site it points to.

The page and its assets add their own policy (:data:`PAGE_HEADERS`): no framing by
another site (clickjacking a host's moderation buttons) and only its own scripts.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_RESPONSE: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "connect-src 'self' ws: wss:",  # the socket listener may be on another port
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


class SecurityHeaders:
    """ASGI middleware adding :data:`EVERY_RESPONSE` to each HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in EVERY_RESPONSE if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)
