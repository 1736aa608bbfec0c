"""What this node's sockets are sent during one event-loop iteration, sent at its end.

The hub records each publish here instead of touching every member at once. At the
end of the iteration the frames of one room (or one socket) leave as one
:class:`~steeple.protocol.outbound.Burst`: each socket is handed one burst however
many frames the tick produced, so the per-socket work of fan-out is paid once per tick,
not once per frame.

Each frame goes to exactly the sockets that were members when it was published: a
join or a leave seals the room's open burst, and later frames start a new one. A
socket's frames keep their order within a room and against the frames sent to it
alone (a frame for one socket seals the open bursts of the rooms it is in); frames
of different rooms may interleave differently, as they may across nodes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from steeple.protocol.outbound import Burst, Outbound
from steeple.types import Room

if TYPE_CHECKING:
    from steeple.hub import Socket

log = logging.getLogger(__name__)


class Outbox:
    """Bursts waiting for the end of the tick, in the order they were started."""

    __slots__ = ("_open", "_scheduled", "_waiting")

    def __init__(self) -> None:
        self._waiting: list[tuple[list[Socket], list[Outbound]]] = []
        self._open: dict[Room, list[Outbound]] = {}
        self._scheduled = False

    def to_room(self, room: Room, members: Iterable[Socket], frame: Outbound) -> None:
        """``frame`` for the room's current ``members``."""
        frames = self._open.get(room)
        if frames is not None:
            frames.append(frame)
            return
        frames = self._open[room] = [frame]
        self._add(list(members), frames)

    def to_socket(self, socket: Socket, frame: Outbound) -> None:
        """``frame`` for one socket (seal its rooms first: see the module's docstring)."""
        self._add([socket], [frame])

    def seal(self, room: Room) -> None:
        """The room's members change: frames published from now on start a new burst."""
        self._open.pop(room, None)

    def flush(self) -> None:
        """Hand every waiting burst to its sockets, oldest first."""
        self._scheduled = False
        waiting, self._waiting = self._waiting, []
        self._open.clear()
        for sockets, frames in waiting:
            burst = Burst(frames)
            for socket in sockets:
                try:
                    socket.deliver(burst)
                except Exception:  # one socket's fault must not cost the others the burst
                    log.exception("delivering to socket %s failed", socket.socket_id)

    def _add(self, sockets: list[Socket], frames: list[Outbound]) -> None:
        self._waiting.append((sockets, frames))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)
