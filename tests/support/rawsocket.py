"""A bare WebSocket client for misbehaving peers: one that never pongs, one that never reads.

websockets' sans-I/O client parses the handshake and incoming frames, but nothing it
would answer (pongs, close replies) is ever written: only what the test sends explicitly.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from typing import Any

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


class RawSocket:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: ClientProtocol
    ) -> None:
        self.reader, self.writer, self.protocol = reader, writer, protocol
        self.socket_id = ""
        self.received = 0
        """Bytes read after the handshake response's read."""
        self._events: deque[Any] = deque()

    @classmethod
    async def connect(cls, url: str, receive_buffer: int | None = None) -> RawSocket:
        uri = parse_uri(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connect, so the window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (uri.host, uri.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        protocol = ClientProtocol(uri)
        protocol.send_request(protocol.connect())
        for chunk in protocol.data_to_send():
            writer.write(chunk)
        raw = cls(reader, writer, protocol)
        response = await raw._next_event()
        assert isinstance(response, Response) and response.status_code == 101
        return raw

    async def _next_event(self) -> Any:
        """The next handshake response or frame; None at end of stream."""
        while not self._events:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                return None
            self.received += len(data)
            self.protocol.receive_data(data)
            self._events.extend(self.protocol.events_received())
        return self._events.popleft()

    async def next_frame(self) -> Frame | None:
        event = await self._next_event()
        assert event is None or isinstance(event, Frame)
        return event

    def send_text(self, text: str) -> None:
        self.writer.write(Frame(Opcode.TEXT, text.encode()).serialize(mask=True))

    def send_pong(self, data: bytes) -> None:
        self.writer.write(Frame(Opcode.PONG, data).serialize(mask=True))

    async def get_id(self) -> str:
        self.send_text("getId")
        while True:
            frame = await self.next_frame()
            assert frame is not None, "closed before the socketId arrived"
            if frame.opcode is Opcode.TEXT:
                self.socket_id = orjson.loads(frame.data)["data"]
                return self.socket_id

    async def close_code(self) -> tuple[int | None, list[Frame]]:
        """Read until the server's close frame: (its code, the frames read before it)."""
        seen: list[Frame] = []
        while True:
            frame = await self.next_frame()
            if frame is None:
                return None, seen
            if frame.opcode is Opcode.CLOSE:
                return int.from_bytes(frame.data[:2], "big"), seen
            seen.append(frame)

    def abort(self) -> None:
        self.writer.transport.abort()
