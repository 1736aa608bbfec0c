"""The socket edge: a WebSocket listener on a bare asyncio transport.

The handshake and inbound frames are parsed by websockets' sans-I/O
``ServerProtocol``; outbound frames are pre-encoded wire bytes. Everything the hub has
for one socket in one event-loop iteration arrives as one burst and leaves in a single
``write``: the per-frame cost of fan-out is the system call, so batching is what makes
it fast. A socket with nothing waiting writes its burst at once; one that is behind
queues it, and its queue is flushed at the end of the tick.
permessage-deflate is never negotiated (it would cost a compression per recipient).

Limits (PROTOCOL.md section 5.6): the handshake must complete within
``handshake_timeout`` seconds (408, then the connection is closed), an address holding
its share of sockets is refused with 429 (``SocketCap``), and an inbound message larger
than ``INBOUND_LIMIT`` closes the socket with 1009.

A socket's backlog is everything not yet sent: its pending frames, the transport's
buffer and the kernel's send queue (see :mod:`steeple.web.kernel_buffer`). Pending
frames are handed to the transport only while it is not holding any, so on a slow
close the unsent frames can be dropped and the 4008 close frame goes out next,
behind at most one partly written batch, instead of behind the whole backlog. What
the backlog may be, and what a socket answers, is Steeple's socket policy
(:mod:`steeple.socket_policy`); this module only does the I/O.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import cast

import orjson
from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Protocol
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from steeple.protocol.outbound import PING_WIRE, Burst, close_wire
from steeple.socket_lifecycle import SocketLifecycle
from steeple.socket_policy import (
    ABORT_AFTER,
    ASK_KERNEL,
    INBOUND_LIMIT,
    OVER,
    SLOW_CLOSE,
    Beat,
    SocketPolicy,
)
from steeple.types import new_id
from steeple.web.kernel_buffer import SendBuffers
from steeple.web.security_headers import EVERY_RESPONSE
from steeple.web.socket_cap import SocketCap


class WriteBatcher:
    """Coalesces writes: sockets marked dirty are flushed once, at the end of the tick."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[EdgeSocket] = []

    def mark(self, socket: EdgeSocket) -> None:
        if not self._dirty:
            self._loop.call_soon(self._flush)
        self._dirty.append(socket)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for socket in dirty:
            socket.flush()


class EdgeSocket(asyncio.Protocol):
    """One client socket. Implements the hub's :class:`~steeple.hub.Socket`.

    The I/O half: Steeple's rules are its :class:`~steeple.socket_policy.SocketPolicy`.
    """

    __slots__ = (
        "_buffers",
        "_deadline",
        "_direct_limit",
        "_edge",
        "_paused",
        "_pending",
        "_policy",
        "_transport",
        "_written",
        "_ws",
        "address",
        "socket_id",
    )

    def __init__(self, edge: SocketEdge) -> None:
        self._edge = edge
        self._ws: ServerProtocol | None = None
        self._transport: asyncio.Transport | None = None
        self._buffers = SendBuffers(None, 0)
        self._pending: list[bytes] = []
        self._deadline: asyncio.TimerHandle | None = None
        self._paused = False
        self._direct_limit = 0
        self._written = 0
        self.socket_id = new_id()
        self._policy = SocketPolicy(self.socket_id, edge.buffer_limit)
        self.address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        peer = self._transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""
        self._ws = ServerProtocol(max_size=INBOUND_LIMIT)
        # A peer that sends half a handshake, or nothing, would hold a descriptor forever.
        self._deadline = self._edge.loop.call_later(
            self._edge.handshake_timeout, self._handshake_timed_out
        )
        self._buffers = SendBuffers(self._transport, self._edge.send_buffer)
        self._policy.kernel_cap = self._buffers.kernel_cap
        self._direct_limit = self._policy.unqueued_limit()
        # Told to pause as soon as the transport holds anything the kernel did not take.
        self._transport.set_write_buffer_limits(high=0)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self.flush()

    def data_received(self, data: bytes) -> None:
        ws = self._ws
        if ws is None:
            return
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                self._handshake(ws, event)
            elif not isinstance(event, Frame):
                continue
            elif event.opcode in (Opcode.TEXT, Opcode.BINARY):
                self._queue(self._policy.message_received().wire)
            elif event.opcode is Opcode.PONG:
                self._policy.pong_received()
        self._queue_protocol_output(ws)

    def eof_received(self) -> bool | None:
        if self._ws is not None:
            self._ws.receive_eof()
            self._queue_protocol_output(self._ws)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_deadline()
        self._transport = None
        self._pending = []
        self._forget()

    def _forget(self) -> None:
        if self._policy.forgotten():
            self._edge.cap.release(self.address)
            self._edge.lifecycle.closed(self.socket_id)

    def _handshake(self, ws: ServerProtocol, request: Request) -> None:
        self._end_deadline()
        response = ws.accept(request)
        if response.status_code == 101:
            forwarded = ", ".join(request.headers.get_all("X-Forwarded-For")) or None
            admitted = self._edge.cap.admit(self.address, forwarded)
            if admitted is None:
                response = refusal(HTTPStatus.TOO_MANY_REQUESTS, self._edge.cap.refusal())
            else:
                self.address = admitted
        response.headers["Server"] = "steeple"
        ws.send_response(response)
        if response.status_code == 101:
            forget_handshake(ws)
            self._policy.opened()
            self._edge.lifecycle.opened(self)

    def _handshake_timed_out(self) -> None:
        self._deadline = None
        ws = self._ws
        if ws is None or self._transport is None:
            return
        problem = (
            f"the WebSocket handshake did not complete within {self._edge.handshake_timeout:g} s"
        )
        ws.send_response(refusal(HTTPStatus.REQUEST_TIMEOUT, problem))
        self._queue_protocol_output(ws)

    def _end_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _queue_protocol_output(self, ws: ServerProtocol) -> None:
        for chunk in ws.data_to_send():
            if chunk:
                self._queue(chunk)
            else:  # the protocol closes: what it queued (its close frame) must go out
                self.flush(force=True)
                if self._transport is not None:
                    self._transport.close()

    # --- the hub's Socket interface ---------------------------------------------

    def deliver(self, burst: Burst) -> None:
        if not self._policy.open:
            return
        wire, transport = burst.wire, self._transport
        if (
            self._pending
            or self._paused
            or len(wire) > self._direct_limit
            or transport is None
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            self._queue(wire)
            return
        # Nothing of this socket is waiting anywhere but in the kernel, which holds at
        # most its cap: the burst is within the budget, and leaves now. The fan-out's
        # hot path: once per socket per tick.
        self._written += len(wire)
        transport.write(wire)

    def ping(self) -> bool:
        transport = self._transport
        backlog = bool(self._pending) or bool(transport and transport.get_write_buffer_size())
        position = self._written + sum(len(data) for data in self._pending)
        beat = self._policy.heartbeat(self._acknowledged(), position, backlog)
        if beat is Beat.PING:
            self._queue(PING_WIRE)
        return beat is not Beat.DEAD

    def _acknowledged(self) -> int:
        """Bytes written to this socket that its peer has received (a system call)."""
        return self._written - self._buffers.unsent()

    def close(self, code: int, reason: str) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        # Unsent frames are dropped: the close frame goes next (only the rest of a
        # partly written batch, whole frames, is ahead of it in the transport).
        self._policy.close_started()
        self._pending = []
        transport.write(close_wire(code, reason))
        transport.close()
        # The hub lets go now (via the loop: the hub may be iterating its rooms); the
        # transport lingers only to deliver the close frame.
        self._edge.loop.call_soon(self._forget)
        # A peer that never reads would hold the socket open forever.
        self._edge.loop.call_later(ABORT_AFTER, transport.abort)

    # --- batching -----------------------------------------------------------------

    def _queue(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            # Closed by us (slow consumer, missed pong, shutdown): the close frame is
            # written; anything more would only grow the buffer until the abort.
            return
        if not self._pending:
            self._edge.batcher.mark(self)
        self._pending.append(data)
        # SendBuffers.account, inlined: this is the fan-out's hot path, once per frame.
        verdict = self._policy.queued(len(data), transport.get_write_buffer_size())
        if verdict is ASK_KERNEL:
            verdict = self._policy.kernel_holds(self._buffers.kernel_unsent())
        if verdict is OVER:
            self.close(SLOW_CLOSE.code, SLOW_CLOSE.reason)

    def flush(self, force: bool = False) -> None:
        pending = self._pending
        if not pending or self._transport is None or (self._paused and not force):
            return  # while paused, frames wait here, where a slow close can drop them
        self._pending = []
        self._policy.queue_emptied()
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self._written += len(data)
        self._transport.write(data)


def forget_handshake(ws: ServerProtocol) -> None:
    """Let go of the handshake once the socket is open.

    websockets' parser is one generator for the socket's life, and the request it
    parsed (every header: about 2 KiB) stays alive as one of its locals. An open
    socket needs only the frame parser, so it gets a fresh one, and a fresh reader:
    2 KiB less per idle socket. Only when nothing is buffered: a client may send no
    frame before it has read the 101, and if one did, its bytes stay where they are.
    """
    if ws.reader.buffer or ws.reader.eof:
        return
    ws.reader = StreamReader()
    ws.parser = Protocol.parse(ws)
    next(ws.parser)


def refusal(status: HTTPStatus, problem: str) -> Response:
    """A handshake answer other than 101, with the JSON body every 4xx of Steeple has."""
    body = orjson.dumps({"error": problem})
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
            *((name.decode(), value.decode()) for name, value in EVERY_RESPONSE),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


class SocketEdge:
    """Owns the listener; hands sockets to the hub and tells ``events`` of opens and closes."""

    def __init__(
        self,
        lifecycle: SocketLifecycle,
        buffer_limit: int,
        cap: SocketCap,
        handshake_timeout: float,
        send_buffer: int = 0,
    ) -> None:
        self.lifecycle = lifecycle
        self.buffer_limit = buffer_limit
        self.cap = cap
        self.handshake_timeout = handshake_timeout
        self.send_buffer = send_buffer
        self.loop = asyncio.get_running_loop()
        self.batcher = WriteBatcher(self.loop)
        self._server: asyncio.Server | None = None

    async def listen(self, host: str, port: int) -> int:
        self._server = await self.loop.create_server(
            lambda: EdgeSocket(self), host, port, backlog=4096, reuse_address=True
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
