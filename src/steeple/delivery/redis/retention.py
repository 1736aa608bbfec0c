"""What this node published lately, so that a receiver that missed some can have it again.

Every room publish gets the next number of the node's sequence and a pointer to the
node's previous publish in that room (:mod:`~steeple.delivery.redis.frames`). The
frames are kept in a ring bounded by bytes and by count (the same bounds as the
outbox), whether Redis has passed them on or not: a receiver that detects a hole asks
for it (:meth:`Retention.between`), and a receiver that comes back from an outage asks
where each of its rooms stands (:meth:`Retention.standing`). Anything that has left the
ring is gone; the receiver then closes the sockets concerned with 1012.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Iterable

from steeple.delivery.redis.frames import RoomFrame
from steeple.types import Room

ROOMS_REMEMBERED = 100_000
"""Rooms whose latest publish the node remembers; past it the least recent is forgotten
(its next frame then says ``prev`` 0: "unknown", which receivers accept)."""

Standing = tuple[int, int | None]
"""A room's latest seq, and the seq a receiver that lost contact at ``since`` last had
(None when the ring no longer reaches back that far)."""


class Retention:
    def __init__(self, origin: str, max_bytes: int, max_frames: int) -> None:
        self._origin = origin
        self._max_bytes = max_bytes
        self._max_frames = max_frames
        self._seq = 0
        self._latest: OrderedDict[Room, tuple[int, float]] = OrderedDict()
        self._ring: deque[tuple[Room, RoomFrame, float]] = deque()
        self._bytes = 0
        self._horizon = 0.0
        """When the newest frame that left the ring was published."""

    def stamp(self, room: Room, payload: bytes) -> RoomFrame:
        """Number a new publish to ``room`` and keep it."""
        self._seq += 1
        now = time.time()
        previous = self._latest.pop(room, None)
        frame = RoomFrame(self._origin, self._seq, previous[0] if previous else 0, payload)
        self._latest[room] = (frame.seq, now)
        if len(self._latest) > ROOMS_REMEMBERED:
            self._latest.popitem(last=False)
        self._keep(room, frame, now)
        return frame

    def _keep(self, room: Room, frame: RoomFrame, now: float) -> None:
        self._ring.append((room, frame, now))
        self._bytes += len(frame.payload)
        while self._bytes > self._max_bytes or len(self._ring) > self._max_frames:
            _, old, self._horizon = self._ring.popleft()
            self._bytes -= len(old.payload)

    def between(self, room: Room, after: int, upto: int) -> list[RoomFrame]:
        """The kept frames of ``room`` numbered after ``after`` up to ``upto``, in order."""
        return [f for r, f, _ in self._ring if r == room and after < f.seq <= upto]

    def standing(self, rooms: Iterable[Room], since: float) -> dict[Room, Standing]:
        """Where each of ``rooms`` this node published to stands, for a receiver that
        heard nothing from Redis after ``since`` (this node's clock)."""
        wanted = {room: self._latest[room] for room in rooms if room in self._latest}
        first_after: dict[Room, int] = {}
        for room, frame, at in self._ring:
            if at > since and room in wanted and room not in first_after:
                first_after[room] = frame.prev
        return {
            room: self._standing(room, seq, at, since, first_after)
            for room, (seq, at) in wanted.items()
        }

    def _standing(
        self, room: Room, seq: int, at: float, since: float, first_after: dict[Room, int]
    ) -> Standing:
        if at <= since:
            return seq, seq
        if room in first_after and self._horizon <= since:
            return seq, first_after[room]
        return seq, None
