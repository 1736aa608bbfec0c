"""Rate limits on posting and editing, joining, renaming, reacting and creating rooms
(PROTOCOL.md 5.6).

Each action is charged to two buckets at once (:mod:`~steeple.services.rate_buckets`),
all or nothing: the **caller's** (a signed-in person, by church and personId; an
anonymous caller, by its address) and the **room's** (for a creation: the church's).
Over either: :class:`~steeple.errors.TooManyRequests` (429, the limit named,
``Retry-After``), raised before anything is written, and counted in ``/metrics`` as
``steeple_rate_limited_total{limit, room_kind}``.

An anonymous caller is known by a pseudonym of its address alone (the same keyed
hash as the per-church pseudonyms, under a scope of its own): a per-church one would
give a script that invents churches a fresh allowance for each. Everyone behind one
address (a church's Wi-Fi) shares that allowance, so its defaults are sized for a
congregation, and the room's bucket bounds what all addresses together can post.

Hosts (``Chat__Host`` or ``Content__Edit``) are exempt from the room's post limit
(not from their own): when a room is flooded they are the ones who must still speak.
A setting of 0 turns that limit off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from steeple import access
from steeple.auth.principal import Principal
from steeple.errors import BadRequest, TooManyRequests
from steeple.protocol.content_types import ContentType
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.services.context import Context
from steeple.services.rate_buckets import Buckets, Charge, retry_seconds
from steeple.settings import Rate
from steeple.storage.rows import ConversationRow
from steeple.types import Room

ADDRESS_SCOPE = "*rate-limits*"
"""The pseudonym scope of a caller's address (in place of a church id)."""
ROOM_KINDS = frozenset(
    {
        *ContentType,
        "content",
        ALERTS_ROOM,
    }
)
"""``room_kind`` label values; any other content type counts as ``other`` (a caller
may invent content types, and each label value is a time series)."""

RoomKind = Callable[[Room], Awaitable[str]]
"""The content type of a room being joined; asked only when a join is refused."""
Label = Callable[[], Awaitable[str]]
"""A refusal's ``room_kind`` label, worked out only when there is one."""

_WHAT = {"post": "posts", "join": "joins", "create": "new conversations"}
_WHAT |= {"react": "reactions", "rename": "renames"}
_WHO = {"person": "by you", "address": "from your address", "room": "in this room"}
_WHO["church"] = "in this church"


def room_kind(content_type: Any) -> str:
    return content_type if content_type in ROOM_KINDS else "other"


def require_batch(principal: Principal, entries: Sequence[object], most: int, what: str) -> None:
    """Anonymous batches are small (PROTOCOL.md 5.6): 400 naming the limit otherwise."""
    if not principal.authenticated and len(entries) > most:
        raise BadRequest(
            f"an anonymous request may hold at most {most} {what} (got {len(entries)})"
        )


class RateLimits:
    def __init__(self, ctx: Context, buckets: Buckets, registry: CollectorRegistry) -> None:
        self._ctx = ctx
        self._settings = ctx.settings
        self._buckets = buckets
        self._refused = Counter(
            "steeple_rate_limited",
            "Requests refused with 429 by a rate limit",
            ["limit", "room_kind"],
            registry=registry,
        )

    async def post(self, principal: Principal, conversation: ConversationRow, address: str) -> None:
        """A :data:`~steeple.services.messages.PostGuard`: one post to ``conversation``."""
        church_id = conversation["churchId"]
        kind = _known(room_kind(conversation.get("contentType")))
        charges = [(self._caller("post", principal, address, 1), kind)]
        if not access.can_host(principal, church_id):
            room = self._charge("post_room", f"{church_id}:{conversation['id']}", 1)
            charges.append((room, kind))
        await self._take(charges)

    async def react(self, principal: Principal, conversation: ConversationRow) -> None:
        """One reaction toggled on a message of ``conversation`` (signed-in callers only)."""
        kind = _known(room_kind(conversation.get("contentType")))
        person = f"{principal.church_id}:{principal.person_id}"
        room = f"{conversation['churchId']}:{conversation['id']}"
        await self._take(
            [
                (self._charge("react_person", person, 1), kind),
                (self._charge("react_room", room, 1), kind),
            ]
        )

    async def rename(self, principal: Principal, address: str) -> None:
        """One ``setName``: it rewrites the socket's rows and the attendance of its rooms."""
        await self._take([(self._caller("rename", principal, address, 1), _known("other"))])

    async def join(
        self, principal: Principal, rooms: Sequence[Room], address: str, kind: RoomKind
    ) -> None:
        """A join of one row per entry of ``rooms``: the caller pays for every row, each
        room for its own rows (a person's ``alerts`` room is the caller's alone)."""
        if not rooms:
            return
        per_room: dict[Room, int] = {}
        for room in rooms:
            if room[1] != ALERTS_ROOM:
                per_room[room] = per_room.get(room, 0) + 1
        charges = [(self._caller("join", principal, address, len(rooms)), _asked(kind, rooms[0]))]
        for (church_id, conversation_id), count in per_room.items():
            charge = self._charge("join_room", f"{church_id}:{conversation_id}", count)
            charges.append((charge, _asked(kind, (church_id, conversation_id))))
        await self._take(charges)

    async def create(
        self, principal: Principal, church_id: str, content_type: str, address: str, count: int = 1
    ) -> None:
        """``count`` new conversations of ``church_id`` (lazily or on request)."""
        kind = _known(room_kind(content_type))
        await self._take(
            [
                (self._caller("create", principal, address, count), kind),
                (self._charge("create_church", church_id, count), kind),
            ]
        )

    # --- the charges ---------------------------------------------------------------------

    def _caller(self, action: str, principal: Principal, address: str, cost: int) -> Charge | None:
        if principal.authenticated and principal.person_id:
            return self._charge(
                f"{action}_person", f"{principal.church_id}:{principal.person_id}", cost
            )
        return self._charge(f"{action}_address", self._ctx.pseudonyms(ADDRESS_SCOPE, address), cost)

    def _charge(self, limit: str, subject: str, cost: int) -> Charge | None:
        rate: Rate = getattr(self._settings, limit)
        if not rate.on:
            return None
        if cost > rate.burst:
            what, _, who = limit.partition("_")
            raise BadRequest(
                f"{cost} {_WHAT[what]} at once is more than the {limit} limit allows "
                f"{_WHO[who]} ({rate.burst} at once); send fewer"
            )
        return Charge(f"{limit}|{subject}", cost, 1000.0 / rate.per_second, rate.burst)

    async def _take(self, maybe: Sequence[tuple[Charge | None, Label]]) -> None:
        """Charge every bucket that is on; on a refusal count it and raise the 429."""
        charges = [(charge, label) for charge, label in maybe if charge is not None]
        if not charges:
            return
        refusal = await self._buckets.take(
            [charge for charge, _ in charges], epoch_ms(self._ctx.clock.now())
        )
        if refusal is None:
            return
        charge, label = charges[refusal.index]
        limit = charge.key.partition("|")[0]
        self._refused.labels(limit=limit, room_kind=await label()).inc()
        raise self._too_many(limit, refusal.wait_ms)

    def _too_many(self, limit: str, wait_ms: float) -> TooManyRequests:
        rate: Rate = getattr(self._settings, limit)
        what, _, who = limit.partition("_")
        wait = retry_seconds(wait_ms)
        return TooManyRequests(
            f"too many {_WHAT[what]} {_WHO[who]}: at most {rate.burst} at once and "
            f"{rate.per_second:g} a second ({limit}); wait {wait} s",
            limit=limit,
            retry_after=wait,
        )

    async def close(self) -> None:
        await self._buckets.close()


def _known(kind: str) -> Label:
    async def label() -> str:
        return kind

    return label


def _asked(kind: RoomKind, room: Room) -> Label:
    async def label() -> str:
        return room_kind(await kind(room))

    return label


def epoch_ms(now: datetime) -> float:
    """The clock's naive UTC time as milliseconds since the epoch."""
    return now.replace(tzinfo=UTC).timestamp() * 1000
