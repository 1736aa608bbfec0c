"""The socket edge meets peers that do not speak WebSocket properly, and keeps serving."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest
import websockets

from steeple.node import Node


async def _raw(node: Node, payload: bytes) -> bytes:
    """Send raw bytes to the socket port; return everything read until the server closes."""
    address = urlsplit(node.socket_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(payload)
    await writer.drain()
    received = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return received


async def test_plain_http_gets_a_4xx_and_a_close(node: Node) -> None:
    answer = await _raw(node, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500


async def test_bytes_that_are_not_http_are_dropped(node: Node) -> None:
    answer = await _raw(node, b"\x16\x03\x01 not a handshake\r\n\r\n")
    assert not answer.startswith(b"HTTP/1.1 101")


async def test_an_oversized_frame_closes_that_socket_only(node: Node, sockets: Any) -> None:
    bystander = await sockets()
    async with websockets.connect(node.socket_url, compression=None, max_size=None) as ws:
        await ws.send("x" * (128 * 1024))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await bystander.ws.send("getId")
    assert (await bystander.next("socketId"))["data"] == bystander.socket_id
