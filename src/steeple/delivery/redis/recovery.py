"""Filling the holes in other nodes' frames, or closing the sockets that have one.

A hole shows up two ways. A frame arrives whose predecessor never did
(:mod:`~steeple.delivery.redis.ordering`), or this node comes back from an outage and
asks every peer where the rooms it has members in stand (``sync``): a peer that
published meanwhile says how far it got. Either way the node asks the publisher for
the missing frames (``replay``), out of its retention, and delivers them in order
ahead of those held behind the hole.

When a hole cannot be filled (the publisher no longer keeps those frames, or does not
answer), every local socket of that room is closed with 1012: its client reconnects
and recovers with ``catchup?after=``. A node never keeps a socket open that it knows
has missed a frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from steeple.delivery.redis.control import ControlBus, Message
from steeple.delivery.redis.frames import RoomFrame
from steeple.delivery.redis.ordering import Stream, Streams
from steeple.delivery.redis.retention import Retention
from steeple.hub import Hub
from steeple.protocol.close_codes import CloseCode
from steeple.types import Room

log = logging.getLogger(__name__)

SERVICE_RESTART = CloseCode.SERVICE_RESTART
SYNC_CHUNK = 2000
"""Rooms named in one ``sync`` question."""
SINCE_MARGIN = 2.0
"""Seconds before the link was seen down from which a peer's frames may be missing."""


class Recovery:
    def __init__(
        self, hub: Hub, streams: Streams, retention: Retention, control: ControlBus
    ) -> None:
        self._hub = hub
        self._streams = streams
        self._retention = retention
        self._control = control
        self._tasks: set[asyncio.Task[None]] = set()
        self.replayed = 0
        self.holes_lost = 0
        self.sockets_closed = 0

    def replayed_count(self) -> float:
        return self.replayed

    def closed_count(self) -> float:
        return self.sockets_closed

    def arrived(self, room: Room, frame: RoomFrame) -> None:
        stream = self._streams.arrive(room, frame)
        if stream.behind and not stream.filling:
            self._fill(room, frame.origin, stream)

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    # --- the receiving side --------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("recovering frames from the other nodes failed")

    def _fill(self, room: Room, origin: str, stream: Stream) -> None:
        stream.filling = True
        self.spawn(self._filling(room, origin, stream))

    async def _filling(self, room: Room, origin: str, stream: Stream) -> None:
        try:
            while stream.behind:
                before = stream.last
                await self._replay(room, origin, stream)
                if stream.behind and stream.last == before:
                    self._lost(room, origin, stream)
        finally:
            stream.filling = False

    async def _replay(self, room: Room, origin: str, stream: Stream) -> None:
        after, upto = stream.last or 0, stream.hole_end()
        request = {"op": "replay", "room": list(room), "after": after, "upto": upto}
        replies = await self._control.ask(request, {origin}, lambda reply: True)
        if not self._hub.members(room):  # everyone left meanwhile
            stream.skip()
            return
        for seq, prev, payload in replies.get(origin, {}).get("frames", ()):
            self.replayed += 1
            self._streams.arrive(room, RoomFrame(origin, seq, prev, payload.encode()))

    def _lost(self, room: Room, origin: str, stream: Stream) -> None:
        members = list(self._hub.members(room))
        log.warning(
            "frames from node %s to room %s/%s are lost; closing its %d sockets here (1012) "
            "so that their clients catch up",
            origin,
            room[0],
            room[1],
            len(members),
        )
        self.holes_lost += 1
        self.close_room(room)
        stream.skip()

    def close_room(self, room: Room) -> None:
        for socket_id in self._hub.members(room):
            socket = self._hub.get(socket_id)
            if socket is not None:
                self.sockets_closed += 1
                socket.close(SERVICE_RESTART, "missed frames; catch up")

    async def sync(self, peers: set[str], since: float) -> None:
        """Back from an outage: learn how far each peer got in every room held here."""
        rooms = self._hub.rooms()
        for start in range(0, len(rooms), SYNC_CHUNK):
            chunk = [list(room) for room in rooms[start : start + SYNC_CHUNK]]
            replies = await self._control.ask({"op": "sync", "rooms": chunk, "since": since}, peers)
            for origin, reply in replies.items():
                self._standings(origin, reply.get("rooms", ()))

    def _standings(self, origin: str, standings: Iterable[list[Any]]) -> None:
        active = set(self._hub.rooms())
        for church, room_id, latest, base in standings:
            room = (str(church), str(room_id))
            if room not in active:
                continue
            stream = self._streams.stream(room, origin)
            if stream.last is None and base is None:
                self._lost(room, origin, stream)
                continue
            if stream.last is None:
                stream.last = int(base)
            stream.target = max(stream.target, int(latest))
            if stream.behind and not stream.filling:
                self._fill(room, origin, stream)

    # --- the publishing side -------------------------------------------------------

    def answer(self, request: Message) -> Message:
        """A peer's ``replay`` or ``sync`` question about what this node published."""
        if request.get("op") == "replay":
            room = _room(request.get("room"))
            frames = self._retention.between(room, int(request["after"]), int(request["upto"]))
            return {"frames": [[f.seq, f.prev, f.payload.decode()] for f in frames]}
        rooms = [_room(value) for value in request.get("rooms", ())]
        since = float(request.get("since", 0)) - SINCE_MARGIN
        standing = self._retention.standing(rooms, since)
        return {"rooms": [[r[0], r[1], seq, base] for r, (seq, base) in standing.items()]}


def _room(value: object) -> Room:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return (value[0], value[1])
    raise ValueError(f"not a room: {value!r}")
