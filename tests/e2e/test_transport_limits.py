"""Transport limits (PROTOCOL.md 5.6): sockets per address, handshake and HTTP read
deadlines, inbound frame size; on the socket port and in single-port mode.

Clients bind to 127.0.0.2, 127.0.0.3, ... (Linux routes all of 127/8 to lo), so "one
address is held while another is served" is tested with real, distinct addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from steeple.node import Node
from tests.support.nodes import node_settings
from tests.support.steps import live_room

BOTH_EDGES = pytest.mark.parametrize(
    "edge", ["socket-port", "single-port"], ids=["socket-port", "single-port"]
)
FRAME_LIMIT = 64 * 1024
# Short, so the tests do not wait 10 s; long enough for a prompt client on a busy machine.
DEADLINE = 0.5


@pytest.fixture
async def start(sqlite_url: str) -> AsyncIterator[Callable[..., Any]]:
    """``await start(edge, **settings)``: a running node, stopped after the test."""
    started: list[Node] = []

    async def start_node(edge: str, **overrides: Any) -> Node:
        settings = node_settings(sqlite_url, self_hosted=edge == "single-port", **overrides)
        node = Node(settings)
        await node.start()
        started.append(node)
        return node

    yield start_node
    for node in started:
        await node.stop()


async def open_socket(
    node: Node, source: str, forwarded_for: str | None = None
) -> ClientConnection:
    """A socket from ``source`` that has done its getId handshake."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    ws = await websockets.connect(
        node.socket_url,
        compression=None,
        open_timeout=5,
        max_size=None,
        local_addr=(source, 0),
        additional_headers=headers,
    )
    await answers_get_id(ws)
    return ws


async def answers_get_id(ws: ClientConnection) -> None:
    await ws.send("getId")
    frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
    assert frame["action"] == "socketId"


async def refused(node: Node, source: str, forwarded_for: str | None = None) -> dict[str, Any]:
    """Open a socket that must be refused with 429; the JSON body of the refusal."""
    with pytest.raises(websockets.InvalidStatus) as refusal:
        await open_socket(node, source, forwarded_for)
    response = refusal.value.response
    assert response.status_code == 429
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return dict(orjson.loads(response.body))


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` with a deadline: a peer's close reaches the server a few loop
    iterations after the client is done, and the node has no event to wait for."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 5 s: {what}")


async def close_all(sockets: list[ClientConnection]) -> None:
    for ws in sockets:
        await ws.close()


# --- sockets per address --------------------------------------------------------------


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def server_errors() -> Any:
    """``server_errors()``, called once the node runs (uvicorn's start-up resets its
    loggers' handlers): a list that collects the node's and uvicorn's error records."""
    records = ErrorRecords()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]

    def watch() -> list[str]:
        for logger in loggers:
            logger.addHandler(records)
        return records.messages

    yield watch
    for logger in loggers:
        logger.removeHandler(records)


@BOTH_EDGES
async def test_an_address_over_the_cap_is_refused_while_another_is_served(
    start: Any, edge: str, server_errors: Any
) -> None:
    node = await start(edge, max_sockets_per_address=3)
    errors = server_errors()
    crowd = [await open_socket(node, "127.0.0.2") for _ in range(3)]
    body = await refused(node, "127.0.0.2")
    assert "at most 3" in body["error"]
    other = await open_socket(node, "127.0.0.3")
    for ws in crowd:  # the refusal closed nothing that was open
        await answers_get_id(ws)
    await crowd.pop().close()
    await until(lambda: len(node.hub) == 3, "the closed socket left the hub")
    crowd.append(await open_socket(node, "127.0.0.2"))  # its place was given back
    await refused(node, "127.0.0.2")
    await close_all([*crowd, other])
    assert errors == []  # a refusal is routine: a flood of them must not flood the log


@BOTH_EDGES
async def test_every_kind_of_close_gives_the_place_back(start: Any, edge: str) -> None:
    node = await start(edge, max_sockets_per_address=2)
    for _ in range(8):
        clean, aborted = await open_socket(node, "127.0.0.2"), await open_socket(node, "127.0.0.2")
        await refused(node, "127.0.0.2")  # a refused handshake takes no place
        await clean.close()
        aborted.transport.abort()
        await until(lambda: len(node.hub) == 0, "both sockets left the hub")
        # Closed by the server: a frame over the limit.
        oversized = await open_socket(node, "127.0.0.2")
        await oversized.send("x" * (FRAME_LIMIT + 1))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(oversized.recv(), 5)
        await until(lambda: len(node.hub) == 0, "the oversized socket left the hub")
    held = [await open_socket(node, "127.0.0.2") for _ in range(2)]
    await refused(node, "127.0.0.2")  # still counting: neither leaked nor under-counted
    await close_all(held)


@BOTH_EDGES
async def test_forwarded_addresses_count_only_from_trusted_proxies(start: Any, edge: str) -> None:
    node = await start(edge, max_sockets_per_address=1, trusted_proxies=("127.0.0.2",))
    # Through the trusted proxy each forwarded viewer has a place of its own.
    first = await open_socket(node, "127.0.0.2", forwarded_for="203.0.113.1")
    await refused(node, "127.0.0.2", forwarded_for="203.0.113.1")
    second = await open_socket(node, "127.0.0.2", forwarded_for="203.0.113.2")
    # From anyone else the header is ignored: the peer's own address counts.
    third = await open_socket(node, "127.0.0.3", forwarded_for="203.0.113.3")
    await refused(node, "127.0.0.3", forwarded_for="203.0.113.4")
    await close_all([first, second, third])


# --- handshake and request deadlines --------------------------------------------------


async def exchange(url: str, payload: bytes) -> bytes:
    """Send ``payload`` (maybe nothing), then read everything until the server closes."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(
        address.hostname, address.port, local_addr=("127.0.0.2", 0)
    )
    writer.write(payload)
    try:
        return await asyncio.wait_for(reader.read(), 5)  # EOF, or the test fails here
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def timed_out(answer: bytes) -> str:
    """The problem a 408 answer names (it must be one, with a JSON body)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"application/json" in head.lower() and b"nosniff" in head.lower()
    return str(orjson.loads(body)["error"])


HALF_UPGRADE = b"GET /chat HTTP/1.1\r\nHost: steeple\r\nUpgrade: websocket\r\nConnection: Up"


@BOTH_EDGES
async def test_a_handshake_not_finished_in_time_is_closed(start: Any, edge: str) -> None:
    node = await start(edge, handshake_timeout=DEADLINE)
    healthy = await open_socket(node, "127.0.0.3")
    assert "did not" in timed_out(await exchange(node.socket_url, HALF_UPGRADE))
    silent = await exchange(node.socket_url, b"")
    if edge == "socket-port":
        timed_out(silent)
    else:  # the HTTP port closes an unused connection without a word (see http_protocol)
        assert silent == b""
    await answers_get_id(healthy)  # its deadline ended with its handshake
    assert len(node.hub) == 1
    await healthy.close()


async def test_an_http_head_or_body_not_arriving_in_time_is_closed(start: Any) -> None:
    node = await start("socket-port", http_read_timeout=DEADLINE)
    assert "did not arrive" in timed_out(await exchange(node.http_url, b"GET /health HTTP/1.1\r\n"))
    assert await exchange(node.http_url, b"") == b""
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
        room = await live_room(http)  # a prompt request is served
        message = [
            {
                "churchId": room["churchId"],
                "conversationId": room["id"],
                "content": "never sent",
                "displayName": "Slow",
            }
        ]
        body = orjson.dumps(message)
        # A complete JSON array, but the head promises more: the request is not complete.
        head = (
            b"POST /messaging/messages/send HTTP/1.1\r\nHost: steeple\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (len(body) + 50)
        )
        timed_out(await exchange(node.http_url, head + body))
        catchup = await http.get(f"/messages/catchup/{room['churchId']}/{room['id']}")
        assert catchup.status_code == 200 and catchup.json() == []  # nothing was posted


async def test_the_next_request_on_a_kept_alive_connection_has_a_deadline_too(
    start: Any,
) -> None:
    node = await start("socket-port", http_read_timeout=DEADLINE)
    address = urlsplit(node.http_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: steeple\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200")
        lengths = [line for line in head.lower().split(b"\r\n") if b"content-length" in line]
        await asyncio.wait_for(reader.readexactly(int(lengths[0].split(b":")[1])), 5)
        writer.write(b"GET /health HTTP/1.1\r\nHost: ste")
        rest = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert "did not arrive" in timed_out(rest)


# --- inbound frame size ---------------------------------------------------------------


@BOTH_EDGES
async def test_frames_over_64_kib_close_the_socket_with_1009(start: Any, edge: str) -> None:
    node = await start(edge)
    bystander = await open_socket(node, "127.0.0.3")
    ws = await open_socket(node, "127.0.0.2")
    await ws.send("x" * FRAME_LIMIT)  # exactly the limit is answered
    assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["action"] == "socketId"
    await ws.send("x" * (FRAME_LIMIT + 1))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await answers_get_id(bystander)
    await bystander.close()
