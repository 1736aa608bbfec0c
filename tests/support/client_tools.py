"""Helpers for client tests: wait for values the client publishes, count HTTP requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import httpx

from steeple.client import Backoff

T = TypeVar("T")

FAST = Backoff(base=0.05, cap=0.25)
"""Reconnect quickly in tests (still with full jitter)."""


class Recorder(Generic[T]):
    """Collects every value it is called with; ``await until(pred)`` waits for one."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._waiters: list[asyncio.Future[None]] = []

    def __call__(self, item: T) -> None:
        self.items.append(item)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _arrival(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    async def until(self, predicate: Callable[[T], bool], timeout: float = 10.0) -> T:
        """The first recorded value (past or future) that satisfies ``predicate``."""

        async def find() -> T:
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                await self._arrival()

        return await asyncio.wait_for(find(), timeout)

    async def count_at_least(self, n: int, timeout: float = 10.0) -> None:
        async def wait() -> None:
            while len(self.items) < n:
                await self._arrival()

        await asyncio.wait_for(wait(), timeout)


class RequestLog:
    """httpx event hook recording ``"METHOD /path"`` below ``/messaging`` (real traffic)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        path = request.url.path.removeprefix("/messaging")
        self.requests.append(f"{request.method} {path}")

    def count(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10, event_hooks={"request": [self]})


def free_port() -> int:
    """A port that was free a moment ago (for nodes restarted on the same port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def contents(snapshot: Any) -> list[str]:
    return [m.content for m in snapshot.messages]


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds (a deadline, not a sleep as synchronisation)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
