"""A real node on a background thread, and a blocking socket client, for sync tests.

Hypothesis state machines drive their rules synchronously, so the property test runs
the node on its own uvloop event loop in a thread and talks to it with a sync httpx
client and ``websockets.sync`` sockets: the same node, ports and wire as the async
tests, no mocking.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import uvloop
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from steeple.node import Node
from tests.support.nodes import NO_RATE_LIMITS, node_settings

T = TypeVar("T")
Frame = dict[str, Any]


class ThreadedNode:
    """``run(coro)`` runs a coroutine on the node's loop and returns its result."""

    def __init__(self, node: Node, loop: asyncio.AbstractEventLoop) -> None:
        self.node = node
        self._loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


@contextlib.contextmanager
def threaded_node(database: Path, **overrides: Any) -> Iterator[ThreadedNode]:
    loop = uvloop.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="steeple-node", daemon=True)
    thread.start()
    # Hypothesis invents a church per example, all from one address.
    settings = {**NO_RATE_LIMITS, **overrides}
    node = Node(node_settings(f"sqlite+aiosqlite:///{database}", **settings))
    running = ThreadedNode(node, loop)
    try:
        running.run(node.start())
        yield running
    finally:
        running.run(node.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class SyncSocket:
    """A socket whose frames a reader thread collects; ``settle`` drains what is queued."""

    def __init__(self, url: str) -> None:
        # Entered as a context manager: that is the non-deprecated way to hold one.
        self._opened = contextlib.ExitStack()
        self._ws: ClientConnection = self._opened.enter_context(
            connect(url, compression=None, open_timeout=5)
        )
        self.frames: list[Frame] = []
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="socket-reader", daemon=True)
        self._reader.start()
        self._ws.send("getId")
        self.socket_id = str(self.wait_for(lambda f: f["action"] == "socketId")["data"])

    def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            for raw in self._ws:
                with self._arrived:
                    self.frames.append(orjson.loads(raw))
                    self._arrived.notify_all()
        with self._arrived:
            self._arrived.notify_all()

    def wait_for(self, where: Callable[[Frame], bool], timeout: float = 5) -> Frame:
        """The first frame (arrived or arriving) that matches ``where``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            seen = 0
            while True:
                for frame in self.frames[seen:]:
                    if where(frame):
                        return frame
                seen = len(self.frames)
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise TimeoutError("no matching frame arrived")
                self._arrived.wait(left)

    def settle(self) -> None:
        """Every frame queued for this socket before now has arrived.

        The server answers any text with a socketId frame, written after whatever was
        already queued for the socket, so its arrival marks the point.
        """
        with self._arrived:
            before = sum(1 for f in self.frames if f["action"] == "socketId")
        self._ws.send("getId")
        count = 0

        def nth_id_frame(frame: Frame) -> bool:
            nonlocal count
            count += frame["action"] == "socketId"
            return count > before

        self.wait_for(nth_id_frame)

    def close(self) -> None:
        self._opened.close()
        self._reader.join(5)
