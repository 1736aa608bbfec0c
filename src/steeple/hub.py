"""This node's sockets and rooms, and the fan-out of encoded frames to them.

The hub never awaits a socket: :meth:`Hub.publish` records the encoded frame in the
:class:`~steeple.outbox.Outbox` and returns; at the end of the event-loop iteration
each member's bounded outbound buffer is handed the tick's frames of the room as one
burst. A socket whose buffer overflows is closed as a slow consumer (the client
reconnects and catches up); it never stalls the room. There is no backpressure
towards the publisher, by design.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from steeple.outbox import Outbox
from steeple.protocol.close_codes import CloseCode
from steeple.protocol.outbound import Burst, Outbound
from steeple.types import Room

log = logging.getLogger(__name__)

SLOW_CONSUMER = CloseCode.SLOW_CONSUMER
GOING_AWAY = CloseCode.GOING_AWAY
"""Short names the socket edges and their tests import; the codes are :class:`CloseCode`'s."""


class Socket(Protocol):
    """What the hub needs of a socket, whatever server holds it."""

    socket_id: str
    address: str

    def deliver(self, burst: Burst) -> None:
        """Queue the frames without blocking; overflow closes the socket (slow consumer)."""

    def ping(self) -> bool:
        """Send a ping when one is due; False if the peer is gone (the previous ping was
        never answered, and it is not still reading what was queued before it)."""

    def close(self, code: int, reason: str) -> None: ...


class Hub:
    """socketId -> socket and room -> sockets, for this node only."""

    def __init__(self) -> None:
        self._sockets: dict[str, Socket] = {}
        self._rooms: dict[Room, dict[str, Socket]] = {}
        self._socket_rooms: dict[str, set[Room]] = {}
        self.room_listeners: list[Callable[[Room, bool], None]] = []
        self._outbox = Outbox()

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, socket: Socket) -> None:
        self._sockets[socket.socket_id] = socket

    def remove(self, socket_id: str) -> set[Room]:
        """Forget a socket; return the rooms it was in."""
        self._sockets.pop(socket_id, None)
        rooms = self._socket_rooms.pop(socket_id, set())
        for room in rooms:
            self._drop_member(room, socket_id)
        return rooms

    def get(self, socket_id: str) -> Socket | None:
        return self._sockets.get(socket_id)

    def join(self, room: Room, socket_id: str) -> bool:
        """Index a local socket into a room; False if the socket is not on this node."""
        socket = self._sockets.get(socket_id)
        if socket is None:
            return False
        members = self._rooms.get(room)
        if members is None:
            members = self._rooms[room] = {}
            self._notify(room, True)
        self._outbox.seal(room)
        members[socket_id] = socket
        self._socket_rooms.setdefault(socket_id, set()).add(room)
        return True

    def leave(self, room: Room, socket_id: str) -> None:
        rooms = self._socket_rooms.get(socket_id)
        if rooms is not None:
            rooms.discard(room)
        self._drop_member(room, socket_id)

    def publish(self, room: Room, frame: Outbound) -> int:
        """``frame`` for every local member of ``room`` (at the end of the tick); how many."""
        members = self._rooms.get(room)
        if not members:
            return 0
        self._outbox.to_room(room, members.values(), frame)
        return len(members)

    def send(self, socket_id: str, frame: Outbound) -> bool:
        socket = self._sockets.get(socket_id)
        if socket is None:
            return False
        for room in self._socket_rooms.get(socket_id, ()):
            self._outbox.seal(room)
        self._outbox.to_socket(socket, frame)
        return True

    def flush(self) -> None:
        """Hand the sockets what this tick has for them now, not at the end of the tick."""
        self._outbox.flush()

    def rooms(self) -> list[Room]:
        return list(self._rooms)

    def open_among(self, candidates: Iterable[str]) -> set[str]:
        """Those of ``candidates`` open on this node (each join asks: not a copy of all)."""
        sockets = self._sockets
        return {socket_id for socket_id in candidates if socket_id in sockets}

    def members(self, room: Room) -> Iterable[str]:
        return list(self._rooms.get(room, ()))

    def ids_in_order(self) -> list[str]:
        """Socket ids, oldest first (a socket keeps its place while it is open)."""
        return list(self._sockets)

    def heartbeat(self, socket_ids: Iterable[str] | None = None) -> int:
        """Ping every socket (or those of ``socket_ids`` still open); terminate those
        that are gone (see :meth:`Socket.ping`)."""
        if socket_ids is None:
            sockets = list(self._sockets.values())
        else:
            sockets = [s for i in socket_ids if (s := self._sockets.get(i)) is not None]
        dead = [s for s in sockets if not s.ping()]
        for socket in dead:
            log.info("socket %s missed a pong; terminating", socket.socket_id)
            socket.close(CloseCode.GOING_AWAY, "missed pong")
        return len(dead)

    def close_all(
        self, code: int = CloseCode.GOING_AWAY, reason: str = "server shutting down"
    ) -> None:
        self.flush()  # what was published goes out ahead of the close frames
        for socket in list(self._sockets.values()):
            socket.close(code, reason)

    def _drop_member(self, room: Room, socket_id: str) -> None:
        members = self._rooms.get(room)
        if members is None:
            return
        self._outbox.seal(room)
        members.pop(socket_id, None)
        if not members:
            del self._rooms[room]
            self._notify(room, False)

    def _notify(self, room: Room, active: bool) -> None:
        for listener in self.room_listeners:
            listener(room, active)
