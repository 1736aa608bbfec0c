"""Reactions: each person toggles emojis on messages of conversations they take part in."""

from __future__ import annotations

from typing import Any

from steeple import validation
from steeple.auth.principal import Principal
from steeple.errors import NotFound, Unauthorized
from steeple.protocol.frames import Action
from steeple.services.context import Context
from steeple.services.conversations import ConversationService
from steeple.services.rate_limits import RateLimits
from steeple.storage.rows import MessageRow
from steeple.types import new_id

MAX_EMOJI = 50


class ReactionService:
    def __init__(
        self, ctx: Context, conversations: ConversationService, limits: RateLimits
    ) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._conversations = conversations
        self._limits = limits

    async def toggle(self, principal: Principal, message_id: str, body: Any) -> dict[str, Any]:
        """``POST /messages/:messageId/reactions``: add the caller's emoji, or take it back."""
        if not principal.authenticated or not principal.person_id:
            raise Unauthorized()
        emoji = validation.text(validation.an_object(body), "emoji", max_length=MAX_EMOJI)
        message = await self._store.messages.get(message_id, principal.church_id)
        if message is None:
            raise NotFound("message not found")
        conversation = await self._conversations.find(message["conversationId"])
        if conversation is None:
            raise NotFound("conversation not found")
        if not await self._conversations.may_post(principal, conversation):
            raise Unauthorized()
        await self._limits.react(principal, conversation)
        added = await self._store.reactions.toggle(
            {
                "id": new_id(),
                "churchId": message["churchId"],
                "messageId": message_id,
                "conversationId": message["conversationId"],
                "personId": principal.person_id,
                "emoji": emoji,
                "timeAdded": self._ctx.clock.now(),
            }
        )
        if added is not None:
            await self._announce(message, principal.person_id, emoji, added)
        return {"messageId": message_id, "emoji": emoji, "added": added is not False}

    async def _announce(self, message: MessageRow, person_id: str, emoji: str, added: bool) -> None:
        room = (message["churchId"], message["conversationId"])
        await self._ctx.publish(
            room,
            Action.REACTION,
            {
                "messageId": message["id"],
                "conversationId": message["conversationId"],
                "personId": person_id,
                "emoji": emoji,
                "added": added,
            },
        )
