"""uvicorn's protocols, fitted for the transport limits (PROTOCOL.md 5.6).

``TimedHttpProtocol``: uvicorn's h11 protocol with a read deadline, that turns away
held addresses (:mod:`~steeple.web.flood_hold`).

uvicorn times out only idle kept-alive connections; a client that sends half a request
head (slowloris), or a head and then a trickle of body, keeps its connection, and the
descriptor, forever. Here each request gets ``read_timeout`` seconds from the moment
the connection opens, or its first byte arrives on a kept-alive one, until its head and
body are in. Past it a partial request is answered 408 (JSON, ``Connection: close``)
and the connection closed; a connection that sent nothing is just closed (browsers open
spare connections and retry on them). In single-port mode WebSocket upgrades are HTTP
request heads too, so this is also their handshake deadline. A connection from a held
address is aborted when it opens (where the packet filter could not drop its SYN) and
at its next request (one opened before the hold), before anything is parsed.

``RefusingWebSocketProtocol``: uvicorn's WebSocket protocol, quiet about refusals. A
handshake refused with an HTTP answer (the ASGI denial response: 429 when an address
holds its share of sockets) is logged by uvicorn as an application error, once per
refusal, so a flood from one address would flood the log too. It also hands the
application the connection's transport, as the scope extension ``steeple.transport``
(``{"transport": transport}``), so the ASGI socket can bound and count what the
transport and the kernel hold for a slow reader, as the socket port does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

import h11
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request

from steeple.web.flood_hold import FloodHold
from steeple.web.security_headers import EVERY_RESPONSE

if TYPE_CHECKING:  # uvicorn's typed ASGI events (only for the annotation)
    from uvicorn._types import ASGISendEvent

TRANSPORT_EXTENSION = "steeple.transport"

# Their states in which a request is still arriving.
_READING = (h11.IDLE, h11.SEND_BODY)


class TimedHttpProtocol(H11Protocol):
    """Pass ``TimedHttpProtocol.bound(seconds, hold)`` as uvicorn's ``http`` protocol."""

    read_timeout: ClassVar[float] = 10.0
    hold: ClassVar[FloodHold | None] = None

    @classmethod
    def bound(cls, seconds: float, hold: FloodHold | None = None) -> type[TimedHttpProtocol]:
        """A subclass bound to a node's deadline and hold (nothing global changes)."""
        return type(cls.__name__, (cls,), {"read_timeout": seconds, "hold": hold})

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._turned_away():
            self._arm()

    def data_received(self, data: bytes) -> None:
        if self._turned_away():
            return
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in _READING:
            self._disarm()  # head and body are in (or the request failed to parse)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        if not self._turned_away():  # pipelined requests wait for this, not for data
            super().on_response_complete()

    def _turned_away(self) -> bool:
        """Abort the connection if its peer is held; whether it was."""
        if self.hold is None or self.client is None or not self.hold.held(self.client[0]):
            return False
        self.transport.abort()
        return True

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the head is complete; the socket has its own limits from here
        super().handle_websocket_upgrade(event)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state not in _READING:
            return
        received_nothing = self.conn.their_state is h11.IDLE and not self.conn.trailing_data[0]
        cycle = self.cycle if self.conn.their_state is h11.SEND_BODY else None
        if cycle is not None and not cycle.response_started:
            # The app waits for the rest of the body: it is told the client is gone
            # (so it never acts on a partial body) and its answer is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self._answer_408()
        elif cycle is None and not received_nothing:
            self._answer_408()
        self.transport.close()

    def _answer_408(self) -> None:
        problem = f"the request did not arrive within {self.read_timeout:g} s"
        body = orjson.dumps({"error": problem})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
            *EVERY_RESPONSE,
        ]
        events = [
            h11.Response(status_code=408, headers=headers, reason=b"Request Timeout"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ]
        # Should h11 refuse to answer in its state, closing is answer enough.
        with contextlib.suppress(h11.LocalProtocolError):
            self.transport.write(b"".join(self.conn.send(event) or b"" for event in events))


class RefusingWebSocketProtocol(WebSocketsSansIOProtocol):
    """Pass as uvicorn's ``ws`` protocol (single-port mode)."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # set only for a handshake that may be accepted
        if scope is not None:  # the application task is created, but has not run yet
            scope["extensions"][TRANSPORT_EXTENSION] = {"transport": self.transport}

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            # The refusal is complete and the connection closing: the handshake is over.
            # uvicorn leaves this unset after a denial response and reports an error.
            self.handshake_complete = True


def transport_of(scope: Mapping[str, Any]) -> asyncio.Transport | None:
    """The transport ``RefusingWebSocketProtocol`` handed over, if this server is uvicorn."""
    extension = (scope.get("extensions") or {}).get(TRANSPORT_EXTENSION) or {}
    # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
    return cast("asyncio.Transport | None", extension.get("transport"))
