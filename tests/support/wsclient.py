"""A test-side socket: connects, learns its socketId, and waits for frames by action."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

Predicate = Callable[[dict[str, Any]], bool]


class TestSocket:
    __test__ = False

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.socket_id = ""
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url: str) -> TestSocket:
        ws = await websockets.connect(url, compression=None, open_timeout=5)
        socket = cls(ws)
        await ws.send("getId")
        frame = await socket.next("socketId")
        socket.socket_id = frame["data"]
        return socket

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                async with self._arrived:
                    self.frames.append(orjson.loads(raw))
                    self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def next(
        self, action: str, where: Predicate | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """The first frame of ``action`` (matching ``where``) not yet consumed."""

        async def find() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for index, frame in enumerate(self.frames):
                        if frame["action"] == action and (where is None or where(frame)):
                            return self.frames.pop(index)
                    if self._reader.done():
                        raise ConnectionError(f"socket closed while waiting for {action}")
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)

    def pending(self, action: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["action"] == action]

    async def closed(self, timeout: float = 5.0) -> int | None:
        await asyncio.wait_for(self._reader, timeout)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await self._reader
