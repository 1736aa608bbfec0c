"""A socket for tests of what sits behind the edges (the hub, local delivery).

It implements the hub's ``Socket`` interface and keeps what it is handed, as either
edge's sockets would receive it. The edges' own sockets are tested end to end.
"""

from __future__ import annotations

import asyncio

from steeple.protocol.close_codes import CloseCode
from steeple.protocol.frames import decode_frame
from steeple.protocol.outbound import Burst, Outbound


class RecordingSocket:
    """A socket that keeps what it is given; over ``limit`` frames it closes itself as
    a slow consumer, as the edges' bounded buffers do."""

    def __init__(self, socket_id: str, *, answers_pings: bool = True, limit: int = 100) -> None:
        self.socket_id = socket_id
        self.address = f"ip-{socket_id}"
        self.frames: list[Outbound] = []
        self.closed: list[tuple[int, str]] = []
        self.pings = 0
        self.bursts = 0
        """How many times the hub handed this socket frames."""
        self._answers = answers_pings
        self._limit = limit
        self._arrived = asyncio.Event()

    def deliver(self, burst: Burst) -> None:
        self.bursts += 1
        for frame in burst.frames:
            if self.closed:
                return
            if len(self.frames) >= self._limit:
                self.close(CloseCode.SLOW_CONSUMER, "slow consumer")
                return
            self.frames.append(frame)
        self._arrived.set()

    def ping(self) -> bool:
        self.pings += 1
        return self._answers

    def close(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))

    def contents(self) -> list[object]:
        """The ``content`` of each message frame received, in order."""
        return [decode_frame(frame.payload)["data"]["content"] for frame in self.frames]

    async def payloads(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The bytes of every frame received, once at least ``count`` were (frames a
        delivery hands over from another node arrive through the event loop)."""
        while len(self.frames) < count:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), timeout)
        return [frame.payload for frame in self.frames]
