"""Attendance coalescing over a real store: bounded frames, and settling across nodes."""

from __future__ import annotations

import asyncio
from typing import Any

from steeple.clock import Clock
from steeple.presence import Attendance
from steeple.storage.store import Store
from steeple.types import Room, new_id

ROOM = ("CH1", "conv1")


class Frames:
    """Collects published attendance and lets a test wait for the n-th frame."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()

    async def publish(self, room: Room, action: str, data: object) -> None:
        assert isinstance(data, dict)
        async with self._arrived:
            self.sent.append(data)
            self._arrived.notify_all()

    async def wait_for(self, count: int) -> None:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.sent) >= count), 5)


async def _store(sqlite_url: str, viewers: int) -> Store:
    store = Store.open(sqlite_url)
    await store.migrate()
    clock = Clock()
    await store.connections.replace(
        [
            {
                "id": new_id(),
                "churchId": ROOM[0],
                "conversationId": ROOM[1],
                "personId": None,
                "displayName": f"V{i:03d}",
                "timeJoined": clock.now(),
                "socketId": new_id(),
                "ipAddress": "ip-x",
            }
            for i in range(viewers)
        ]
    )
    return store


async def test_a_burst_of_touches_is_one_frame(sqlite_url: str) -> None:
    store = await _store(sqlite_url, 3)
    frames = Frames()
    attendance = Attendance(store.connections.viewers, frames.publish, 0.01, 2)
    for _ in range(50):
        attendance.touch(ROOM)
    await frames.wait_for(1)
    await attendance.drain()
    assert len(frames.sent) == 1
    assert frames.sent[0]["totalViewers"] == 3
    assert [v["displayName"] for v in frames.sent[0]["viewers"]] == ["V000", "V001"]
    await store.close()


async def test_several_nodes_send_a_settling_frame_once_quiet(sqlite_url: str) -> None:
    store = await _store(sqlite_url, 2)
    frames = Frames()
    attendance = Attendance(store.connections.viewers, frames.publish, 0.01, 10, settle=True)
    attendance.touch(ROOM)
    await frames.wait_for(2)
    assert frames.sent[0] == frames.sent[1]
    await attendance.drain()
    await store.close()


async def test_one_node_sends_no_settling_frame(sqlite_url: str) -> None:
    store = await _store(sqlite_url, 2)
    frames = Frames()
    attendance = Attendance(store.connections.viewers, frames.publish, 0.01, 10)
    attendance.touch(ROOM)
    await frames.wait_for(1)
    # Frames for another room, one after another, outlast a settling frame's delay.
    for count in range(2, 6):
        attendance.touch(("CH1", "other"))
        await frames.wait_for(count)
    assert [f["conversationId"] for f in frames.sent] == ["conv1"] + ["other"] * 4
    await attendance.drain()
    await store.close()
