"""Room membership: joins, leaves, names, closes, and the stale-row sweep."""

from __future__ import annotations

import logging
from typing import Any

from steeple import access, names, validation
from steeple.auth.principal import Principal
from steeple.errors import BadRequest, RequestError, Unauthorized
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.services.context import Context
from steeple.services.conversations import ConversationService
from steeple.services.rate_limits import RateLimits, require_batch
from steeple.services.signed_in_names import SignedInNames
from steeple.storage.rows import ConnectionRow
from steeple.types import Room, new_id, person_alerts_room

log = logging.getLogger(__name__)

LEGACY_ANONYMOUS = "Anonymous "
_PRIVATE = ("socketId", "personId")
"""Connection fields a room listing hides from callers who are not the church's hosts."""


class ConnectionService:
    """Also the socket edge's :class:`~steeple.web.socket_edge.SocketEvents`."""

    def __init__(
        self,
        ctx: Context,
        conversations: ConversationService,
        signed_in: SignedInNames,
        limits: RateLimits,
    ) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._conversations = conversations
        self._signed_in = signed_in
        self._limits = limits
        self._anonymous_counters: dict[Room, int] = {}
        # Sockets that close while the database is away keep their rows until it is back.
        ctx.store.outage.when_back(self.sweep_stale)

    # --- REST ----------------------------------------------------------------------------

    async def join(self, principal: Principal, body: Any, address: str) -> list[ConnectionRow]:
        entries = validation.array_of_objects(body)
        require_batch(principal, entries, self._ctx.settings.anonymous_join_batch, "joins")
        rows = [self._parse(principal, entry, address) for entry in entries]
        for row in rows:  # authorize every entry before writing any
            await self._conversations.require_room_reader(principal, _room(row))
        await self._limits.join(principal, [_room(r) for r in rows], address, self._room_kind)
        await self._require_open_sockets(rows)
        for row in rows:
            row["displayName"] = await self._display_name(row)
        await self._store.new_connections.add(rows)
        await self._forget_closed_meanwhile(rows)
        for room in dict.fromkeys(_room(r) for r in rows):
            self._ctx.attendance.touch(room, joined=True)  # ignores the alerts room
        self._ctx.attendance.welcome((_room(r), r["socketId"]) for r in rows)
        return rows

    async def _room_kind(self, room: Room) -> str:
        """What a refused join is counted under in ``/metrics``."""
        if access.is_alerts(room[1]):
            return ALERTS_ROOM
        if access.parse_content_room(room[1]) is not None:
            return "content"
        conversation = await self._conversations.find(room[1])
        return "" if conversation is None else str(conversation["contentType"] or "")

    async def _require_open_sockets(self, rows: list[ConnectionRow]) -> None:
        """Index each socket into its room first: delivery says whether the socket is
        open anywhere, and a join naming any other socketId writes nothing."""
        for row in rows:
            room = _delivery_room(_room(row), row["personId"])
            if not await self._ctx.delivery.join(room, row["socketId"]):
                raise BadRequest(f"socketId {row['socketId']} is not an open socket")

    async def _forget_closed_meanwhile(self, rows: list[ConnectionRow]) -> None:
        """A socket that closed while its join was being written leaves no row: its
        close removed the rows that existed then; this takes back the whole batch."""
        socket_ids = {row["socketId"] for row in rows}
        if socket_ids <= await self._ctx.delivery.live_socket_ids(socket_ids):
            return
        for row in rows:
            await self._store.connections.remove(_room(row), row["socketId"])
            await self._ctx.delivery.leave(
                _delivery_room(_room(row), row["personId"]), row["socketId"]
            )
            self._ctx.attendance.touch(_room(row))
        raise BadRequest("a socket of this join closed while it was joining")

    def _parse(self, principal: Principal, entry: dict[str, Any], address: str) -> ConnectionRow:
        church_id = validation.identifier(entry, "churchId")
        conversation_id = validation.identifier(entry, "conversationId")
        socket_id = validation.socket_identifier(entry)
        name = validation.text(entry, "displayName", required=False, max_length=validation.MAX_NAME)
        validation.identifier(entry, "personId", required=False)
        person_id = principal.person_id or None if principal.in_church(church_id) else None
        if access.is_alerts(conversation_id):
            if not access.can_use_alerts(principal):
                raise Unauthorized()
            church_id, person_id = principal.church_id, principal.person_id
        return {
            "id": new_id(),
            "churchId": church_id,
            "conversationId": conversation_id,
            "personId": person_id,
            "displayName": name,
            "timeJoined": self._ctx.clock.now(),
            "socketId": socket_id,
            "ipAddress": self._ctx.pseudonyms(church_id, address),
        }

    async def _display_name(self, row: ConnectionRow) -> str:
        if row["displayName"] == LEGACY_ANONYMOUS:
            return await self._next_anonymous(_room(row))
        return await self._shown_name(_room(row), row["displayName"], row["personId"])

    async def _shown_name(self, room: Room, raw: str | None, person_id: str | None) -> str:
        """Cleaned, and a guest's marked if a signed-in person holds it. A name that is
        empty once cleaned stays empty, as a missing one does (attendance shows
        "Anonymous")."""
        name = names.display_name(raw, max_length=names.CONNECTION_NAME_LENGTH, fallback="")
        return await self._signed_in.name_for(
            room, name, signed_in=person_id is not None, max_length=names.CONNECTION_NAME_LENGTH
        )

    async def _next_anonymous(self, room: Room) -> str:
        number = self._anonymous_counters.get(room)
        if number is None:
            highest = await self._store.connections.highest_anonymous_number(room)
            # Joins that ran while we queried have already counted past ``highest``.
            number = max(highest, self._anonymous_counters.get(room, 0))
        if len(self._anonymous_counters) > 10_000:
            self._anonymous_counters.clear()  # re-read from the rows when next needed
        self._anonymous_counters[room] = number + 1
        return f"Anonymous_{number + 1}"

    async def leave(self, principal: Principal, room: Room, socket_id: str) -> None:
        await self._conversations.require_room_reader(principal, room)
        await self._store.connections.remove(room, socket_id)
        await self._ctx.delivery.leave(_delivery_room(room, principal.person_id), socket_id)
        self._ctx.attendance.touch(room)

    async def set_name(self, principal: Principal, body: Any, address: str) -> list[ConnectionRow]:
        entry = validation.an_object(body)
        socket_id = validation.socket_identifier(entry)
        name = validation.text(entry, "name", max_length=validation.MAX_NAME)
        await self._limits.rename(principal, address)
        rows = await self._store.connections.socket_rows(socket_id)
        rooms = [
            (room, person_id)
            for room, person_id in {_room(r): r["personId"] for r in rows}.items()
            if room[1] != ALERTS_ROOM and await self._may_read(principal, room)
        ]
        shown = {room: await self._shown_name(room, name, person_id) for room, person_id in rooms}
        for new_name in set(shown.values()):  # one name for all, unless a guest's is marked
            same = [room for room, value in shown.items() if value == new_name]
            await self._store.connections.rename(socket_id, same, new_name)
        for room in shown:
            self._ctx.attendance.touch(room)
        return [{**r, "displayName": shown[_room(r)]} for r in rows if _room(r) in shown]

    async def _may_read(self, principal: Principal, room: Room) -> bool:
        try:
            await self._conversations.require_room_reader(principal, room)
        except RequestError:
            return False
        return True

    async def in_room(self, principal: Principal, room: Room) -> list[dict[str, object]]:
        """The room's connections, without socketIds (each is its socket's secret) and
        without personIds unless the caller hosts in that church."""
        if room[1] == ALERTS_ROOM:
            raise Unauthorized()
        await self._conversations.require_room_reader(principal, room)
        rows = await self._store.connections.in_room(room)
        hidden = ("socketId",) if access.can_see_people(principal, room[0]) else _PRIVATE
        return [{k: v for k, v in row.items() if k not in hidden} for row in rows]

    # --- socket events -------------------------------------------------------------------

    def socket_opened(self, socket: object) -> None:
        """Nothing to do: a socket joins rooms over REST. (Any socket will do, so this
        service needs nothing of the hub's ``Socket``.)"""

    def socket_closed(self, socket_id: str) -> None:
        self._ctx.spawn(self.forget_socket(socket_id))

    async def forget_socket(self, socket_id: str) -> None:
        try:
            rooms = await self._store.connections.remove_socket(socket_id)
        except Exception as exc:
            if self._store.outage.absorb(exc):
                return  # swept when the database is back
            raise
        for room in rooms:
            self._ctx.attendance.touch(room)

    async def sweep_stale(self) -> int:
        """Remove rows whose socket no longer exists anywhere; correct attendance."""
        known = await self._store.connections.socket_ids()
        stale = known - await self._ctx.delivery.live_socket_ids(known)
        rooms = await self._store.connections.remove_sockets(stale)
        for room in rooms:
            self._ctx.attendance.touch(room)
        if stale:
            log.info("removed connection rows of %d stale sockets", len(stale))
        return len(stale)


def _room(row: ConnectionRow) -> Room:
    return (row["churchId"], row["conversationId"])


def _delivery_room(room: Room, person_id: str | None) -> Room:
    """Where delivery indexes a socket of the room: ``alerts`` per person, so a
    person's notifications reach only that person's sockets."""
    if room[1] == ALERTS_ROOM:
        return person_alerts_room(room[0], person_id or "")
    return room
