"""Frames from the other nodes, in each publisher's order and once, with holes noticed.

Per room and publisher a :class:`Stream` remembers the last frame delivered. A frame
that follows it (its ``prev`` is that frame) is delivered at once; an older one is a
copy (a batch sent again after a failed session) and dropped; one that points
further back than the last frame delivered means frames are missing: it is held,
with any that follow, until the hole is filled from the publisher's retention or
declared lost (:mod:`~steeple.delivery.redis.recovery`). The first frame heard from a
publisher in a room is taken as it comes: a socket gets what is published after it
joined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from steeple.delivery.redis.frames import RoomFrame
from steeple.types import Room

Deliver = Callable[[Room, bytes], None]

HELD_LIMIT = 10_000
"""Frames held behind one hole; past it the hole counts as lost at once."""


@dataclass
class Stream:
    last: int | None = None
    """The seq of the last frame delivered (None: nothing heard yet)."""
    held: dict[int, RoomFrame] = field(default_factory=dict)
    """Frames waiting behind a hole, by the seq they follow."""
    target: int = 0
    """A seq the publisher says it reached: delivery is complete once ``last`` is there."""
    filling: bool = False

    @property
    def behind(self) -> bool:
        return bool(self.held) or (self.last or 0) < self.target

    def hole_end(self) -> int:
        """The last seq missing before what is held (or the target, if nothing is)."""
        if not self.held:
            return self.target
        return min(self.held)

    def skip(self) -> None:
        """Give up on the hole: carry on after the newest frame known."""
        newest = max((f.seq for f in self.held.values()), default=0)
        self.last = max(self.last or 0, self.target, newest)
        self.held.clear()


class Streams:
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._rooms: dict[Room, dict[str, Stream]] = {}

    def stream(self, room: Room, origin: str) -> Stream:
        streams = self._rooms.setdefault(room, {})
        found = streams.get(origin)
        if found is None:
            found = streams[origin] = Stream()
        return found

    def forget(self, room: Room) -> None:
        """No member of ``room`` is left here: what its publishers sent no longer matters."""
        self._rooms.pop(room, None)

    def arrive(self, room: Room, frame: RoomFrame) -> Stream:
        """Deliver ``frame`` if it is next, hold it if something is missing before it."""
        stream = self.stream(room, frame.origin)
        last = stream.last
        if last is not None and frame.seq <= last:
            return stream  # a copy
        if last is None or frame.prev in (0, last):
            self._deliver_from(room, stream, frame)
        elif len(stream.held) < HELD_LIMIT:
            stream.held[frame.prev] = frame
        return stream

    def _deliver_from(self, room: Room, stream: Stream, frame: RoomFrame | None) -> None:
        while frame is not None:
            self._deliver(room, frame.payload)
            stream.last = frame.seq
            frame = stream.held.pop(frame.seq, None)
        for prev in [p for p, f in stream.held.items() if f.seq <= (stream.last or 0)]:
            del stream.held[prev]
