"""What hosts do to a room: block an address from posting, pin a callout.

Blocks are per room and name the address *pseudonym* hosts see in attendance
(PROTOCOL.md 5.5); :meth:`ModerationService.guard` refuses a post from an address
whose pseudonym is blocked in that room. Moderators themselves are never refused, so
a host behind the same NAT as a troll cannot lock themselves out.
"""

from __future__ import annotations

from typing import Any

from steeple import access, validation
from steeple.auth.principal import Principal
from steeple.auth.pseudonym import PSEUDONYM_PREFIX
from steeple.cache import TtlCache
from steeple.errors import BadRequest, Forbidden, NotFound, Unauthorized
from steeple.protocol.frames import Action
from steeple.services.context import Context
from steeple.storage.rows import BlockedIpRow, ConversationRow
from steeple.types import ID_LENGTH, Room, is_valid_id, new_id

PSEUDONYM_LENGTH = 45


BLOCKS_CACHE_SECONDS = 5.0
"""How long a node trusts its copy of a room's blocks (a toggle on this node refreshes
it at once; one on another node is seen within this time)."""


class ModerationService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._blocks: TtlCache[Room, frozenset[str]] = TtlCache(BLOCKS_CACHE_SECONDS)

    # --- blocked addresses -------------------------------------------------------------------

    async def toggle_blocks(self, principal: Principal, body: Any) -> list[BlockedIpView]:
        """``POST /blockedIps``: toggle each entry's block; one ``blockedIp`` frame per room."""
        if not access.can_moderate(principal, principal.church_id):
            raise Unauthorized()
        rows = [_parse_block(principal, e) for e in validation.array_of_objects(body)]
        for room in dict.fromkeys(_room(r) for r in rows):
            if await self._store.conversations.get(room[1], room[0]) is None:
                raise NotFound(f"conversation {room[1]} not found")
        blocked = await self._store.blocked_ips.toggle(rows)
        for room in dict.fromkeys(_room(r) for r in rows):
            await self._announce(room)
        return [{**row, "blocked": state} for row, state in zip(rows, blocked, strict=True)]

    async def clear_blocks(self, principal: Principal, body: Any) -> None:
        """``POST /blockedIps/clear``: lift every block of the listed services."""
        if not access.can_moderate(principal, principal.church_id):
            raise Unauthorized()
        entries = validation.array_of_objects(body)
        services = [validation.identifier(e, "serviceId", max_length=ID_LENGTH) for e in entries]
        if not services:
            return
        for room in await self._store.blocked_ips.clear_services(principal.church_id, services):
            await self._announce(room)

    async def _blocked_in(self, room: Room) -> frozenset[str]:
        """The room's blocked pseudonyms; cached, since every post asks."""
        cached = self._blocks.get(room)
        if cached is not None:
            return cached
        return self._blocks.put(room, frozenset(await self._store.blocked_ips.for_room(room)))

    async def _announce(self, room: Room) -> None:
        blocked = await self._store.blocked_ips.for_room(room)
        self._blocks.put(room, frozenset(blocked))
        await self._ctx.publish(room, Action.BLOCKED_IP, blocked)

    async def guard(
        self, principal: Principal, conversation: ConversationRow, address: str
    ) -> None:
        """A :data:`~steeple.services.messages.PostGuard`: 403 for a blocked address."""
        church_id = conversation["churchId"]
        if access.can_moderate(principal, church_id):
            return
        pseudonym = self._ctx.pseudonyms(church_id, address)
        if pseudonym and pseudonym in await self._blocked_in((church_id, conversation["id"])):
            raise Forbidden("your address is blocked from posting in this conversation")

    # --- callouts ------------------------------------------------------------------------------

    async def set_callout(self, principal: Principal, body: Any) -> dict[str, Any]:
        """``POST /messages/setCallout``: a ``callout`` frame to the room; nothing stored."""
        if not access.can_moderate(principal, principal.church_id):
            raise Unauthorized()
        callout = validation.an_object(body)
        conversation_id = validation.identifier(callout, "conversationId", max_length=ID_LENGTH)
        validation.text(callout, "content", required=False, max_length=validation.MAX_CONTENT)
        if await self._store.conversations.get(conversation_id, principal.church_id) is None:
            raise NotFound("conversation not found")
        callout = {**callout, "churchId": principal.church_id}
        await self._ctx.publish((principal.church_id, conversation_id), Action.CALLOUT, callout)
        return callout


class BlockedIpView(BlockedIpRow):
    """A toggled block and whether the address is blocked now."""

    blocked: bool


def _parse_block(principal: Principal, entry: dict[str, Any]) -> BlockedIpRow:
    return {
        "id": new_id(),
        "churchId": principal.church_id,
        "conversationId": validation.identifier(entry, "conversationId", max_length=ID_LENGTH),
        "serviceId": validation.identifier(entry, "serviceId", required=False, max_length=ID_LENGTH)
        or None,
        "ipAddress": _pseudonym(entry),
    }


def _pseudonym(entry: dict[str, Any]) -> str:
    """The pseudonym to block. Anything else (a raw address) is refused, never stored."""
    value = validation.text(entry, "ipAddress", max_length=PSEUDONYM_LENGTH)
    if not value.startswith(PSEUDONYM_PREFIX) or not is_valid_id(value, PSEUDONYM_LENGTH):
        raise BadRequest("'ipAddress' must be an address pseudonym as shown in attendance")
    return value


def _room(row: BlockedIpRow) -> Room:
    return (row["churchId"], row["conversationId"])
