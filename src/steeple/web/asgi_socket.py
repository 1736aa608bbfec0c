"""Sockets on the HTTP port (single-port mode, ``SELF_HOSTED=1``), through ASGI.

Slower than the socket edge (each frame is a separate ASGI send) but one port is
what some hosts allow. The same socket policy applies (:mod:`steeple.socket_policy`):
the socketId answer, and the budget, which counts the socket's own queue, and, when
the server hands over its transport (uvicorn through ``RefusingWebSocketProtocol``),
the transport's buffer and the kernel's send queue too, whose size is bounded by
``SOCKET_SEND_BUFFER`` as on the socket port. Keepalive pings are uvicorn's
(``ws_ping_interval``), and so are the inbound size limit (``ws_max_size``) and the
handshake deadline (the upgrade request is an HTTP request head, bounded by
``TimedHttpProtocol``). The per-address cap is checked here, before the accept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus

import orjson
from starlette.types import Receive, Scope, Send

from steeple.protocol.close_codes import CloseCode
from steeple.protocol.outbound import Burst, Outbound
from steeple.socket_lifecycle import SocketLifecycle
from steeple.socket_policy import ABORT_AFTER, CLOSING, OVER, SLOW_CLOSE, SocketPolicy
from steeple.types import new_id
from steeple.web.http_protocol import transport_of
from steeple.web.kernel_buffer import SendBuffers
from steeple.web.security_headers import EVERY_RESPONSE
from steeple.web.socket_cap import SocketCap

_CLOSE = object()


class AsgiSocket:
    """Implements the hub's Socket over an ASGI websocket connection."""

    def __init__(
        self,
        send: Send,
        address: str,
        policy: SocketPolicy,
        buffers: SendBuffers,
        forget: Callable[[AsgiSocket], None],
    ) -> None:
        self.socket_id = policy.socket_id
        self.address = address
        self._send = send
        self._policy = policy
        self._buffers = buffers
        self._forget = forget
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._close_code: int = CloseCode.NORMAL_CLOSURE
        self.gave_up = asyncio.Event()

    @property
    def policy(self) -> SocketPolicy:
        return self._policy

    def deliver(self, burst: Burst) -> None:
        for frame in burst.frames:
            if not self.enqueue(frame):
                return

    def enqueue(self, frame: Outbound) -> bool:
        """Queue one frame (each is a separate ASGI send); False once the socket closes."""
        verdict = self._buffers.account(self._policy, len(frame.payload))
        if verdict is OVER:
            self.close(SLOW_CLOSE.code, SLOW_CLOSE.reason)
            return False
        if verdict is CLOSING:
            return False
        self._queue.put_nowait(frame)
        return True

    def ping(self) -> bool:
        return True  # uvicorn pings, and closes a socket that misses a pong (1011)

    def close(self, code: int, reason: str) -> None:
        if self._policy.closing:
            return
        self._policy.close_started()
        self._close_code = code
        # Unsent frames are dropped so the close frame goes next, not behind them.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_CLOSE)
        loop = asyncio.get_running_loop()
        # The hub lets go now (via the loop: the hub may be iterating its rooms).
        loop.call_soon(self._forget, self)
        # ASGI sends wait for the peer to read; one that never does would keep this
        # socket forever. Stop waiting after a grace period.
        loop.call_later(ABORT_AFTER, self.gave_up.set)

    async def write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _CLOSE or not isinstance(item, Outbound):
                await self._send({"type": "websocket.close", "code": self._close_code})
                return
            self._policy.handed_over(len(item.payload))
            await self._send({"type": "websocket.send", "text": item.text})


class AsgiSocketServer:
    """Serves one ASGI websocket connection after another, for the node's single port."""

    def __init__(
        self, lifecycle: SocketLifecycle, buffer_limit: int, cap: SocketCap, send_buffer: int
    ) -> None:
        self.lifecycle = lifecycle
        self.buffer_limit = buffer_limit
        self.cap = cap
        self.send_buffer = send_buffer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        client = scope.get("client") or ("", 0)
        forwarded = b", ".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
        address = self.cap.admit(client[0], forwarded.decode("latin-1") or None)
        if address is None:
            await _refuse(send, HTTPStatus.TOO_MANY_REQUESTS, self.cap.refusal())
            return
        transport = transport_of(scope)
        try:
            await _serve(self, self._socket(send, address, transport), receive, send, transport)
        finally:
            self.cap.release(address)

    def _socket(self, send: Send, address: str, transport: asyncio.Transport | None) -> AsgiSocket:
        buffers = SendBuffers(transport, self.send_buffer)
        policy = SocketPolicy(new_id(), self.buffer_limit, buffers.kernel_cap)
        return AsgiSocket(send, address, policy, buffers, self.forget)

    def forget(self, socket: AsgiSocket) -> None:
        if socket.policy.forgotten():
            self.lifecycle.closed(socket.socket_id)


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
    server: AsgiSocketServer,
    socket: AsgiSocket,
    receive: Receive,
    send: Send,
    transport: asyncio.Transport | None,
) -> None:
    await send({"type": "websocket.accept"})
    socket.policy.opened()
    server.lifecycle.opened(socket)
    writer = asyncio.create_task(socket.write_loop())
    reader = asyncio.create_task(_answer_inbound(socket, receive))
    gave_up = asyncio.create_task(socket.gave_up.wait())
    try:
        await asyncio.wait((reader, gave_up), return_when=asyncio.FIRST_COMPLETED)
        if gave_up.done() and transport is not None:
            transport.abort()  # it never read its close frame: cut it off, as the edge does
    finally:
        for task in (writer, reader, gave_up):
            task.cancel()
        await asyncio.gather(writer, reader, gave_up, return_exceptions=True)
        server.forget(socket)


async def _answer_inbound(socket: AsgiSocket, receive: Receive) -> None:
    """Answer every inbound message with the socketId until the peer disconnects."""
    while (await receive())["type"] != "websocket.disconnect":
        socket.enqueue(socket.policy.message_received())
