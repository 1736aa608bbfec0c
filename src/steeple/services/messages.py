"""Messages: post, edit, read, delete. Stored first, then fanned out.

Each frame is encoded and checked against the delivery's size limit before anything
is written, so a frame the delivery would refuse leaves no row behind.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from steeple import access, names, validation
from steeple.auth.principal import Principal
from steeple.errors import BadRequest, NotFound, Unauthorized
from steeple.protocol.frames import Action, dumps
from steeple.protocol.outbound import Outbound
from steeple.services.context import Context
from steeple.services.conversations import ConversationService, parse_new_conversation
from steeple.services.newest_pages import NewestPages
from steeple.services.rate_limits import require_batch
from steeple.services.signed_in_names import SignedInNames
from steeple.storage.rows import ConversationRow, MessageRow
from steeple.types import new_id

log = logging.getLogger(__name__)

MessageListener = Callable[[Principal, MessageRow, ConversationRow], Awaitable[None]]
"""Called after a message is stored and fanned out: (sender, message, conversation)."""

PostGuard = Callable[[Principal, ConversationRow, str], Awaitable[None]]
"""Called before storing: (sender, conversation, client address); raises to refuse."""


class MessageService:
    def __init__(
        self,
        ctx: Context,
        conversations: ConversationService,
        signed_in: SignedInNames,
        newest_pages: NewestPages | None = None,
    ) -> None:
        """``newest_pages``: where the newest page of each conversation is kept encoded
        (only on a node that is its database's one writer)."""
        self._ctx = ctx
        self._store = ctx.store
        self._conversations = conversations
        self._signed_in = signed_in
        self.listeners: list[MessageListener] = []
        self.guards: list[PostGuard] = []
        self.edit_guards: list[PostGuard] = []
        """Called before an edit is stored, as :attr:`guards` before a post."""
        self._newest = newest_pages

    async def send(self, principal: Principal, body: Any, address: str) -> list[MessageRow]:
        """``POST /messages/send``: anonymous callers welcome where the room allows them,
        one message per request (PROTOCOL.md 5.6)."""
        entries = validation.array_of_objects(body)
        require_batch(principal, entries, 1, "message")
        pending = []
        for entry in entries:
            church_id = validation.identifier(entry, "churchId")
            conversation = await self._postable(principal, church_id, entry, address)
            pending.append((conversation, entry))
        return await self._save(principal, pending)

    async def post(self, principal: Principal, body: Any, address: str) -> list[MessageRow]:
        """``POST /messages``: authenticated new messages, or edits when ``id`` is given."""
        if not principal.authenticated:
            raise Unauthorized()
        entries = validation.array_of_objects(body)
        edits, pending = [], []
        for entry in entries:
            message_id = validation.identifier(entry, "id", required=False)
            if message_id:
                edits.append(await self._edit_draft(principal, message_id, entry, address))
                continue
            conversation = await self._postable(
                principal, principal.church_id, entry, address, missing=Unauthorized()
            )
            entry = {**entry, "displayName": author_name(principal) or entry.get("displayName")}
            pending.append((conversation, entry))
        checked_edits = [(m, self._checked_edit(m)) for m in edits]
        saved = await self._save(principal, pending)
        return saved + [await self._apply_edit(m, frame) for m, frame in checked_edits]

    async def _postable(
        self,
        principal: Principal,
        church_id: str,
        entry: dict[str, Any],
        address: str,
        missing: Exception | None = None,
    ) -> ConversationRow:
        """The conversation an entry may be posted to; ``missing`` is raised when it is
        not in ``church_id`` (``POST /messages`` answers 401 there, PROTOCOL.md 4)."""
        conversation_id = validation.identifier(entry, "conversationId")
        validation.text(entry, "content", max_length=validation.MAX_CONTENT)
        validation.text(entry, "displayName", required=False, max_length=validation.MAX_NAME)
        validation.text(entry, "messageType", required=False, max_length=45)
        conversation = await self._conversations.find(conversation_id)
        if conversation is None or conversation["churchId"] != church_id:
            raise missing or NotFound("conversation not found")
        if not await self._conversations.may_add_message(principal, conversation):
            raise Unauthorized()
        for guard in self.guards:
            await guard(principal, conversation, address)
        return conversation

    def _draft(
        self,
        principal: Principal,
        conversation: ConversationRow,
        entry: dict[str, Any],
        sent: datetime,
    ) -> MessageRow:
        default_name = principal.display_name if principal.authenticated else ""
        return {
            "id": new_id(),
            "churchId": conversation["churchId"],
            "conversationId": conversation["id"],
            "displayName": names.display_name(
                entry.get("displayName"), default_name, max_length=names.MESSAGE_NAME_LENGTH
            ),
            "timeSent": sent,
            # A guest's post is a comment whatever it claims to be (PROTOCOL.md 5.6).
            "messageType": (entry.get("messageType") or "message")
            if principal.authenticated
            else "comment",
            "content": entry["content"],
            "personId": principal.person_id or None if principal.authenticated else None,
            "timeUpdated": None,
        }

    async def _save(
        self, principal: Principal, pending: list[tuple[ConversationRow, dict[str, Any]]]
    ) -> list[MessageRow]:
        """Store and fan out a message for each (conversation, entry); each is stamped
        with its ``timeSent`` only now, next to the name it is shown by."""
        if not pending:
            return []
        drafts = []
        for conversation, entry in pending:
            message = self._draft(principal, conversation, entry, self._ctx.clock.now())
            drafts.append((message, conversation))
            message["displayName"] = await self._signed_in.name_for(
                (message["churchId"], message["conversationId"]),
                message["displayName"] or "",
                signed_in=principal.authenticated,
                max_length=names.MESSAGE_NAME_LENGTH,
            )
        frames = [self._message_frame(m) for m, _ in drafts]
        await self._store.new_messages.add([m for m, _ in drafts])
        for (message, conversation), frame in zip(drafts, frames, strict=True):
            await self._fan_out(principal, message, conversation, frame)
        return [m for m, _ in drafts]

    def _message_frame(self, message: MessageRow) -> Outbound:
        room = (message["churchId"], message["conversationId"])
        return self._ctx.checked_frame(room, Action.MESSAGE, message)

    async def _fan_out(
        self,
        principal: Principal,
        message: MessageRow,
        conversation: ConversationRow,
        frame: Outbound,
    ) -> None:
        await self._ctx.publish_frame((message["churchId"], message["conversationId"]), frame)
        await self._conversations.announce_message(conversation)
        for listener in self.listeners:
            try:
                await listener(principal, message, conversation)
            except Exception as exc:
                # The message is stored and delivered: a failed follow-up never fails it.
                if self._store.outage.absorb(exc):
                    continue
                log.exception(
                    "after-message step %s failed for %s",
                    getattr(listener, "__qualname__", listener),
                    message["id"],
                )

    async def _edit_draft(
        self, principal: Principal, message_id: str, entry: dict[str, Any], address: str
    ) -> MessageRow:
        content = validation.text(entry, "content", max_length=validation.MAX_CONTENT)
        message = await self._store.messages.get(message_id, principal.church_id)
        if message is None:
            raise NotFound("message not found")
        conversation, thread = await self._conversations.with_thread(message["conversationId"])
        if conversation is None or not access.can_edit_message(
            principal, message, conversation, thread
        ):
            raise Unauthorized()
        for guard in self.edit_guards:
            await guard(principal, conversation, address)
        # The author's id and name stay whoever edits (PROTOCOL.md 4, POST /messages).
        return {**message, "content": content}

    def _checked_edit(self, message: MessageRow) -> Outbound:
        message["timeUpdated"] = self._ctx.clock.now()
        return self._message_frame(message)

    async def _apply_edit(self, message: MessageRow, frame: Outbound) -> MessageRow:
        await self._store.messages.edit(message)
        await self._ctx.publish_frame((message["churchId"], message["conversationId"]), frame)
        # Watchers of the content see the change; an edit notifies nobody (PROTOCOL.md 4).
        conversation = await self._conversations.find(message["conversationId"])
        if conversation is not None:
            await self._conversations.announce_message(conversation)
        return message

    # --- reading -----------------------------------------------------------------------------

    async def catchup(
        self, principal: Principal, church_id: str, conversation_id: str, after: str | None
    ) -> bytes:
        """A page of history as its JSON answer."""
        await self._conversations.readable(principal, church_id, conversation_id)
        return await self._history_page(conversation_id, after)

    async def in_conversation(
        self, principal: Principal, conversation_id: str, after: str | None = None
    ) -> bytes:
        if not principal.authenticated:
            raise Unauthorized()
        await self._conversations.readable(principal, principal.church_id, conversation_id)
        return await self._history_page(conversation_id, after)

    async def _history_page(self, conversation_id: str, after: str | None) -> bytes:
        """At most ``HISTORY_LIMIT`` messages, oldest first (PROTOCOL 5.6): the newest
        ones, or those following ``after``. An ``after`` that names no message (deleted,
        or never one) pages from the first message, as the whole history was returned
        for it before pages existed: a client whose cursor is gone misses nothing."""
        limit = self._ctx.settings.history_limit
        if not after:
            return await self._newest_page(conversation_id, limit)
        validation.path_id(after, "after")
        cursor = await self._store.messages.get(after)
        if cursor is not None and cursor["conversationId"] != conversation_id:
            raise BadRequest("'after' names a message of another conversation")
        return dumps(await self._store.messages.in_conversation(conversation_id, cursor, limit))

    async def _newest_page(self, conversation_id: str, limit: int) -> bytes:
        read = partial(self._store.messages.newest, conversation_id, limit)
        if self._newest is None:
            return dumps(await read())
        return await self._newest.page(conversation_id, read)

    async def get(self, principal: Principal, church_id: str, message_id: str) -> MessageRow:
        message = await self._store.messages.get(message_id, church_id)
        if message is None:
            raise NotFound("message not found")
        await self._conversations.readable(principal, church_id, message["conversationId"])
        return message

    async def delete(self, principal: Principal, message_id: str) -> None:
        message = await self._store.messages.get(message_id)
        if message is None:
            raise NotFound("message not found")
        conversation, thread = await self._conversations.with_thread(message["conversationId"])
        if not access.can_delete_message(principal, message, conversation, thread):
            raise Unauthorized()
        await self._store.messages.delete(message)
        room = (message["churchId"], message["conversationId"])
        await self._ctx.publish(room, Action.DELETE_MESSAGE, {"id": message_id})

    async def start_conversation(
        self, principal: Principal, body: Any, address: str
    ) -> ConversationRow:
        """``POST /conversations/start``: a new conversation with its first message."""
        if not principal.authenticated:
            raise Unauthorized()
        entry = validation.an_object(body)
        comment = validation.text(entry, "comment", max_length=validation.MAX_CONTENT)
        spec = parse_new_conversation({**entry, "id": None, "visibility": "public"})
        conversation = await self._conversations.planned(principal, spec, address)
        # Every check of the first post runs before the conversation is written.
        if not await self._conversations.may_add_message(principal, conversation):
            raise Unauthorized()
        for guard in self.guards:
            await guard(principal, conversation, address)
        await self._conversations.insert(conversation)
        draft = {"conversationId": conversation["id"], "content": comment}
        await self._save(principal, [(conversation, draft)])
        return conversation


def author_name(principal: Principal) -> str:
    """The token's "First Last" with blank parts dropped; "" when the token has no name."""
    if not principal.authenticated:
        return ""
    parts = (principal.first_name.strip(), principal.last_name.strip())
    return " ".join(part for part in parts if part)
