"""A room frame as it crosses Redis: who published it, where it sits in that
publisher's sequence, and the encoded payload every socket receives.

``<node id> <seq> <prev>\\n<payload>``. ``seq`` counts every room publish of the node
(one counter per process); ``prev`` is the ``seq`` of the node's previous publish to
the same room, or 0 when the node does not know it (its first publish there, or one
after it forgot the room). A receiver that last saw ``seq`` *n* of a node on a room
and then sees a frame whose ``prev`` is not *n* knows it missed something.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoomFrame:
    origin: str
    seq: int
    prev: int
    payload: bytes

    def encode(self) -> bytes:
        return b"%s %d %d\n" % (self.origin.encode(), self.seq, self.prev) + self.payload


def decode(data: bytes) -> RoomFrame | None:
    """The frame in a room channel's message; None if it is not one."""
    end = data.find(b"\n")
    parts = data[:end].split(b" ")
    if end < 0 or len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return RoomFrame(parts[0].decode(), int(parts[1]), int(parts[2]), data[end + 1 :])
