"""Attendance: who is in a room, sent as one coalesced frame per room per interval.

A burst of N joins to a room costs a bounded number of attendance frames, not N
frames each listing up to N viewers. A frame to every viewer of a 5,000-viewer room is
the costliest thing a node sends, so a room's broadcasts are paced by its size: one
every ``size / BROADCAST_RATE`` seconds (at least ``interval`` apart), so a room costs
at most about :data:`BROADCAST_RATE` broadcast frames a second however large it grows.
During a spike of J joins a second that is ``BROADCAST_RATE / J`` frames per join. A
count some seconds old is still right for a room that large, and nobody waits for it:
each joiner gets its own snapshot at once (:mod:`steeple.joiner_snapshot`), unless the
room's frame is due within :data:`JOINER_WAIT` anyway (with a short ``interval``).

With several nodes (``settle=True``) each node coalesces on its own, so frames from
two nodes can cross on the way and leave a socket showing the older count. Each node
therefore sends one more, "settling", frame once the room has been quiet for two
intervals: every node's last frame then describes the same final state.

A join also owes the room its ``blockedIp`` list (PROTOCOL.md 4). It rides the same
coalesced flush: a storm of N single joins sends the list a bounded number of times
instead of N times to up to N sockets (the joiner itself gets it with its snapshot).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from steeple.joiner_snapshot import SPACING, JoinerSnapshots, SendTo
from steeple.protocol.frames import Action
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.storage.rows import ViewerRow
from steeple.types import Room

log = logging.getLogger(__name__)

ViewerQuery = Callable[[Room, int], Awaitable[tuple[list[ViewerRow], int]]]
BlockQuery = Callable[[Room], Awaitable[list[str]]]
Publish = Callable[[Room, Action, object], Awaitable[None]]

BROADCAST_RATE = 100.0
"""Attendance frames a second a room's paced broadcasts may cost, whatever its size."""
JOINER_WAIT = 0.05
"""How long a joiner may wait for its room's own frame; due later, it gets a snapshot."""


def attendance_data(conversation_id: str, rows: list[ViewerRow], total: int) -> dict[str, Any]:
    viewers = [
        {
            "id": r["id"],
            "displayName": r["displayName"] or "Anonymous",
            "ipAddress": r["ipAddress"] or "",
        }
        for r in rows
    ]
    viewers.sort(key=lambda v: v["displayName"])
    return {"conversationId": conversation_id, "viewers": viewers, "totalViewers": total}


class Attendance:
    """Schedules, coalesces and sends attendance frames."""

    def __init__(
        self,
        viewers: ViewerQuery,
        publish: Publish,
        interval: float,
        viewer_limit: int,
        settle: bool = False,
        blocked: BlockQuery | None = None,
        outage: Callable[[BaseException], bool] = lambda exc: False,
        send: SendTo | None = None,
        broadcast_rate: float = BROADCAST_RATE,
        snapshot_spacing: float = SPACING,
    ) -> None:
        self._viewers = viewers
        self._outage = outage
        self._blocked = blocked
        self._owe_blocks: set[Room] = set()
        self._publish = publish
        self._interval = interval
        self._limit = viewer_limit
        self._due: dict[Room, asyncio.TimerHandle] = {}
        self._sizes: dict[Room, int] = {}
        self._settle = settle
        self._settling: dict[Room, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._rate = broadcast_rate
        self._snapshots: JoinerSnapshots | None = None
        if send is not None:
            self._snapshots = JoinerSnapshots(
                viewers,
                send,
                attendance_data,
                viewer_limit,
                blocked=blocked,
                sized=self._note_size,
                outage=outage,
                spacing=snapshot_spacing,
            )

    @property
    def snapshots(self) -> JoinerSnapshots | None:
        """Each joiner's own snapshot, where the node sends one (``send`` was given)."""
        return self._snapshots

    def welcome(self, joined: Iterable[tuple[Room, str]]) -> None:
        """Each ``(room, socketId)`` just joined (and is saved): send that socket alone
        its room's attendance now, unless the room's own frame is due within
        :data:`JOINER_WAIT` anyway. The alerts room has no attendance."""
        if self._snapshots is not None:
            self._snapshots.welcome(
                (room, socket_id)
                for room, socket_id in joined
                if room[1] != ALERTS_ROOM and not self._due_soon(room)
            )

    def _due_soon(self, room: Room) -> bool:
        due = self._due.get(room)
        return due is not None and due.when() - asyncio.get_running_loop().time() <= JOINER_WAIT

    def touch(self, room: Room, joined: bool = False) -> None:
        """Note that the room's membership changed; a frame follows within ``interval``.

        ``joined``: someone joined, so the room's ``blockedIp`` list follows too.
        """
        if room[1] == ALERTS_ROOM:
            return
        if joined and self._blocked is not None:
            self._owe_blocks.add(room)
        settling = self._settling.pop(room, None)
        if settling is not None:
            settling.cancel()
        if room in self._due:
            return
        loop = asyncio.get_running_loop()
        self._due[room] = loop.call_later(self._delay(room), self._fire, room)

    def _delay(self, room: Room) -> float:
        return max(self._interval, self._sizes.get(room, 0) / self._rate)

    def _note_size(self, room: Room, total: int) -> None:
        if total:
            self._sizes[room] = total
        else:
            self._sizes.pop(room, None)

    def _fire(self, room: Room, settling: bool = False) -> None:
        if settling:
            self._settling.pop(room, None)
        else:
            # No longer "due" once fired: touches from now on schedule the next frame,
            # so none is lost while this one is being computed.
            del self._due[room]
        task = asyncio.create_task(self._send(room, settling))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, room: Room, settling: bool) -> None:
        try:
            rows, total = await self._viewers(room, self._limit)
            self._note_size(room, total)
            await self._publish(room, Action.ATTENDANCE, attendance_data(room[1], rows, total))
            if room in self._owe_blocks and self._blocked is not None:
                self._owe_blocks.discard(room)
                await self._publish(room, Action.BLOCKED_IP, await self._blocked(room))
        except Exception as exc:
            if not self._outage(exc):  # an outage is logged once, not once per room
                log.exception("attendance for %s failed", room)
        if self._settle and not settling and room not in self._due:
            loop = asyncio.get_running_loop()
            self._settling[room] = loop.call_later(2 * self._delay(room), self._fire, room, True)

    async def drain(self) -> None:
        """Send every pending frame now (used at shutdown and by tests)."""
        if self._snapshots is not None:
            await self._snapshots.drain()
        for handle in self._settling.values():
            handle.cancel()
        self._settling.clear()
        for room, handle in list(self._due.items()):
            handle.cancel()
            self._fire(room)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
