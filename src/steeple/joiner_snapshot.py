"""A joiner's own attendance: sent to its socket alone, as soon as its join is saved.

The room's attendance broadcast is paced (:mod:`steeple.presence`): in a room of
thousands a frame to every viewer is the costliest thing a node sends, so it goes out
seldom. A viewer who has just joined should not wait for it, and need not: it gets an
``attendance`` frame (the same shape as the room's, PROTOCOL.md 3) and the room's
``blockedIp`` list, addressed to its socket only, through delivery's single-socket send
(the socket may be held by another node). A burst of joins costs one frame per joiner,
not one per viewer of the room.

Joiners of a room share queries: while one snapshot is being read, later joiners wait
for the next read, which serves them all with one frame encoded once. Each read starts
after every joiner it serves was committed, so each sees itself listed. Two reads of
one room start at least ``spacing`` apart (:data:`SPACING`): a room that thousands
join within minutes is read about fifty times a second, each read serving every
joiner of its 20 ms, instead of once per joiner as fast as the reads go (in the
5,000-viewer spike about 3 % of the node's core), and however fast an anonymous crowd
joins, a room costs at most 50 such reads a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from steeple.protocol.frames import Action
from steeple.storage.rows import ViewerRow
from steeple.types import Room

log = logging.getLogger(__name__)

ViewerQuery = Callable[[Room, int], Awaitable[tuple[list[ViewerRow], int]]]
BlockQuery = Callable[[Room], Awaitable[list[str]]]
SendTo = Callable[[Room, list[str], Action, object], Awaitable[None]]
"""``send(room, socket_ids, action, data)``: one frame of the room, to those sockets only."""
Attendance = Callable[[str, list[ViewerRow], int], dict[str, Any]]
Sized = Callable[[Room, int], None]

SPACING = 0.02
"""Seconds at least between the starts of two snapshot reads of one room."""


class JoinerSnapshots:
    """Reads and sends each joining socket its room's attendance and block list."""

    def __init__(
        self,
        viewers: ViewerQuery,
        send: SendTo,
        attendance: Attendance,
        viewer_limit: int,
        *,
        blocked: BlockQuery | None = None,
        sized: Sized = lambda room, total: None,
        outage: Callable[[BaseException], bool] = lambda exc: False,
        spacing: float = SPACING,
    ) -> None:
        self._viewers = viewers
        self._spacing = spacing
        self.reads = 0
        """Snapshots read (``/metrics``)."""
        self.joiners = 0
        """Joiners sent one (``/metrics``): joiners / reads is what spacing saves."""
        self._send = send
        self._attendance = attendance
        self._limit = viewer_limit
        self._blocked = blocked
        self._sized = sized
        self._outage = outage
        self._waiting: dict[Room, list[str]] = {}
        self._serving: set[Room] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pauses: set[asyncio.Future[None]] = set()
        self._draining = False

    def welcome(self, joined: Iterable[tuple[Room, str]]) -> None:
        """Each ``(room, socketId)`` gets its snapshot soon; call after the join is saved."""
        for room, socket_id in joined:
            self._waiting.setdefault(room, []).append(socket_id)
            if room not in self._serving:
                self._serving.add(room)
                task = asyncio.create_task(self._serve(room))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _serve(self, room: Room) -> None:
        """Snapshots of one room until nobody waits; one read per batch of joiners."""
        loop = asyncio.get_running_loop()
        try:
            while socket_ids := self._waiting.pop(room, None):
                started = loop.time()
                await self._send_snapshot(room, list(dict.fromkeys(socket_ids)))
                # Joiners arriving meanwhile wait for the next read (the room is still
                # being served): it starts ``spacing`` after this one did.
                await self._pause(started + self._spacing - loop.time())
        finally:
            self._serving.discard(room)

    async def _send_snapshot(self, room: Room, socket_ids: list[str]) -> None:
        self.reads += 1
        self.joiners += len(socket_ids)
        try:
            rows, total = await self._viewers(room, self._limit)
            self._sized(room, total)
            await self._send(
                room, socket_ids, Action.ATTENDANCE, self._attendance(room[1], rows, total)
            )
            if self._blocked is not None:
                await self._send(room, socket_ids, Action.BLOCKED_IP, await self._blocked(room))
        except Exception as exc:
            if not self._outage(exc):  # the room's paced frame still follows
                log.exception("attendance snapshot for %s failed", room)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, unless :meth:`drain` is waiting (then not at all)."""
        if seconds <= 0 or self._draining:
            return
        loop = asyncio.get_running_loop()
        pause: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _end, pause)
        self._pauses.add(pause)
        try:
            await pause
        finally:
            self._pauses.discard(pause)
            timer.cancel()

    async def drain(self) -> None:
        """Wait for every snapshot already asked for (shutdown, the end of a Lambda call),
        without the pauses between reads: a call need not outlast its work."""
        self._draining = True
        try:
            for pause in list(self._pauses):
                _end(pause)
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
        finally:
            self._draining = False


def _end(pause: asyncio.Future[None]) -> None:
    if not pause.done():
        pause.set_result(None)


class SnapshotsCollector(Collector):
    """Joiner snapshots in ``/metrics``: the reads, and the joiners they served."""

    def __init__(self, snapshots: JoinerSnapshots) -> None:
        self._snapshots = snapshots

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "steeple_attendance_snapshot_reads",
            "Joiner attendance snapshots read (each serves every joiner of its room waiting)",
            self._snapshots.reads,
        )
        yield CounterMetricFamily(
            "steeple_attendance_snapshot_joiners",
            "Joiners sent their own attendance snapshot",
            self._snapshots.joiners,
        )
