"""Sockets on the HTTP port (single-port mode, ``SELF_HOSTED=1``), through ASGI.

Slower than the socket edge (each frame is a separate ASGI send) but one port is
what some hosts allow. The same bounded-buffer policy applies; keepalive pings are
uvicorn's (``ws_ping_interval``), and so are the inbound size limit (``ws_max_size``)
and the handshake deadline (the upgrade request is an HTTP request head, bounded by
``TimedHttpProtocol``). The per-address cap is checked here, before the accept.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

import orjson
from starlette.types import Receive, Scope, Send

from steeple.hub import SLOW_CONSUMER
from steeple.protocol.frames import socket_id_frame
from steeple.protocol.outbound import Outbound
from steeple.types import new_id
from steeple.web.security_headers import EVERY_RESPONSE
from steeple.web.socket_cap import SocketCap
from steeple.web.socket_edge import ABORT_AFTER, SocketLifecycle

_CLOSE = object()


class AsgiSocket:
    """Implements the hub's Socket over an ASGI websocket connection."""

    def __init__(self, send: Send, address: str, buffer_limit: int) -> None:
        self.socket_id = new_id()
        self.address = address
        self._send = send
        self._limit = buffer_limit
        self._queued = 0
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._close_code = 1000
        self._closing = False
        self.gave_up = asyncio.Event()

    def deliver(self, frame: Outbound) -> None:
        if self._closing:
            return
        self._queued += len(frame.payload)
        if self._queued > self._limit:
            self.close(SLOW_CONSUMER, "slow consumer")
            return
        self._queue.put_nowait(frame)

    def ping(self) -> bool:
        return True

    def close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self._close_code = code
        # Unsent frames are dropped so the close frame goes next, not behind them.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queued = 0
        self._queue.put_nowait(_CLOSE)
        # ASGI sends wait for the peer to read; one that never does would keep this
        # socket (and its room memberships) forever. Stop waiting after a grace period.
        asyncio.get_running_loop().call_later(ABORT_AFTER, self.gave_up.set)

    async def write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _CLOSE or not isinstance(item, Outbound):
                await self._send({"type": "websocket.close", "code": self._close_code})
                return
            self._queued -= len(item.payload)
            await self._send({"type": "websocket.send", "text": item.text})


async def serve_asgi_socket(
    lifecycle: SocketLifecycle,
    buffer_limit: int,
    cap: SocketCap,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    client = scope.get("client") or ("", 0)
    forwarded = b", ".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
    address = cap.admit(client[0], forwarded.decode("latin-1") or None)
    if address is None:
        await _refuse(send, HTTPStatus.TOO_MANY_REQUESTS, cap.refusal())
        return
    try:
        await _serve(lifecycle, AsgiSocket(send, address, buffer_limit), receive, send)
    finally:
        cap.release(address)


async def _refuse(send: Send, status: HTTPStatus, problem: str) -> None:
    """Answer the upgrade request with an HTTP error (the ASGI denial-response extension)."""
    body = orjson.dumps({"error": problem})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        *EVERY_RESPONSE,
    ]
    await send(
        {"type": "websocket.http.response.start", "status": status.value, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body})


async def _serve(
    lifecycle: SocketLifecycle, socket: AsgiSocket, receive: Receive, send: Send
) -> None:
    await send({"type": "websocket.accept"})
    lifecycle.opened(socket)
    writer = asyncio.create_task(socket.write_loop())
    reader = asyncio.create_task(_answer_inbound(socket, receive))
    gave_up = asyncio.create_task(socket.gave_up.wait())
    try:
        await asyncio.wait((reader, gave_up), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (writer, reader, gave_up):
            task.cancel()
        await asyncio.gather(writer, reader, gave_up, return_exceptions=True)
        lifecycle.closed(socket.socket_id)


async def _answer_inbound(socket: AsgiSocket, receive: Receive) -> None:
    """Answer every inbound frame with the socketId until the peer disconnects."""
    while (await receive())["type"] != "websocket.disconnect":
        socket.deliver(Outbound(socket_id_frame(socket.socket_id)))
