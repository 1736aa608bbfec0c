"""A starting node opens its HTTP port before its socket port: the first socket a
reconnecting client gets can re-join at once, never meeting a refused HTTP port.

The observer is a thread (a client outside the node's event loop, as a real one is):
it probes the socket port until it accepts, and at that moment probes the HTTP port.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx

from steeple.node import Node
from tests.support.client_tools import free_port
from tests.support.nodes import node_settings


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_at_first_socket_accept(socket_port: int, http_port: int, timeout: float) -> bool:
    """Whether the HTTP port accepted when the socket port first did."""
    deadline = time.monotonic() + timeout
    while not accepts(socket_port):
        if time.monotonic() > deadline:
            raise AssertionError("the socket port never opened")
    return accepts(http_port)


async def test_the_http_port_is_up_when_the_socket_port_first_accepts(tmp_path: Path) -> None:
    http_port, socket_port = free_port(), free_port()
    settings = node_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}", port=http_port, socket_port=socket_port
    )
    node = Node(settings)
    observer = asyncio.create_task(
        asyncio.to_thread(http_at_first_socket_accept, socket_port, http_port, 20.0)
    )
    await asyncio.sleep(0)  # let the observer's thread start probing before the node starts
    try:
        await node.start()
        assert await observer, "the socket port accepted while the HTTP port refused"
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{http_port}/health")
        assert answer.status_code == 200
    finally:
        await node.stop()
