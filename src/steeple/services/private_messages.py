"""Private messages: one thread per person pair, its conversation, and its unread flag.

A thread row names the two people and the conversation they write in; only those
two may read or post there, whatever the conversation's contentId holds
(:meth:`ConversationService.thread`). A message in the thread flags the other
person (``notifyPersonId``), keeps one unread shadow notification row for them and
sends their ``alerts`` sockets a ``privateMessage`` frame; reading the thread
clears the flag.
"""

from __future__ import annotations

import asyncio
from typing import Any

from steeple import access, validation
from steeple.auth.principal import Principal
from steeple.errors import BadRequest, NotFound, Unauthorized
from steeple.protocol.content_types import ContentType
from steeple.services.alerts import Alerts
from steeple.services.context import Context
from steeple.services.conversations import ConversationView
from steeple.services.push_news import message_news
from steeple.services.rate_limits import RateLimits
from steeple.storage.messages import SUBSCRIPTION
from steeple.storage.rows import (
    ConversationRow,
    MessageRow,
    PrivateMessageRow,
    new_conversation,
    new_notification,
)
from steeple.types import ID_LENGTH, new_id


class PrivateMessageService:
    def __init__(self, ctx: Context, alerts: Alerts, limits: RateLimits) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._alerts = alerts
        self._limits = limits
        self._opening: dict[tuple[str, frozenset[str]], asyncio.Lock] = {}

    # --- opening threads -------------------------------------------------------------------

    async def open(self, principal: Principal, body: Any) -> list[PrivateMessageRow]:
        """``POST /privateMessages``: the pair's existing thread, or a new one.

        Every entry is checked before any is written. Without a ``conversationId`` the
        server opens the thread's conversation itself (a steeple convenience).
        """
        _require_person(principal)
        entries = [_parse_entry(principal, e) for e in validation.array_of_objects(body)]
        for to_person, conversation_id in entries:
            if conversation_id:
                await self._check_conversation(principal, to_person, conversation_id)
        return [await self._open_one(principal, *entry) for entry in entries]

    async def _check_conversation(
        self, principal: Principal, to_person: str, conversation_id: str
    ) -> None:
        conversation = await self._store.conversations.get(conversation_id, principal.church_id)
        if conversation is None or conversation["contentType"] != ContentType.PRIVATE_MESSAGE:
            raise Unauthorized()
        owner = await self._store.private_messages.for_conversation(conversation_id)
        if owner is not None and {owner["fromPersonId"], owner["toPersonId"]} != {
            principal.person_id,
            to_person,
        }:
            raise Unauthorized()

    async def _open_one(
        self, principal: Principal, to_person: str, conversation_id: str
    ) -> PrivateMessageRow:
        # One opening per pair at a time on this node, so two quick clicks make one
        # thread. Once a thread is committed every later call finds it, so the lock
        # can be dropped as soon as its holder is done.
        key = (principal.church_id, frozenset((principal.person_id, to_person)))
        try:
            async with self._opening.setdefault(key, asyncio.Lock()):
                return await self._find_or_create(principal, to_person, conversation_id)
        finally:
            self._opening.pop(key, None)

    async def _find_or_create(
        self, principal: Principal, to_person: str, conversation_id: str
    ) -> PrivateMessageRow:
        church_id, me = principal.church_id, principal.person_id
        existing = await self._store.private_messages.between(church_id, me, to_person)
        if existing is not None:
            return existing
        conversation = None
        if not conversation_id:
            # A signed-in person: the address is not needed to name the caller.
            await self._limits.create(principal, church_id, ContentType.PRIVATE_MESSAGE, "")
            conversation = new_conversation(
                church_id,
                ContentType.PRIVATE_MESSAGE,
                me,
                title="Private Message",
                visibility="hidden",
                allow_anonymous=False,
                created=self._ctx.clock.now(),
            )
            conversation_id = conversation["id"]
        thread: PrivateMessageRow = {
            "id": new_id(),
            "churchId": church_id,
            "fromPersonId": me,
            "toPersonId": to_person,
            "conversationId": conversation_id,
            "notifyPersonId": None,
        }
        await self._store.private_messages.create(thread, conversation)
        return thread

    # --- reading ---------------------------------------------------------------------------

    async def inbox(self, principal: Principal) -> list[InboxThread]:
        """The caller's threads, newest activity first, each with its last message."""
        _require_person(principal)
        pairs = await self._store.private_messages.inbox(principal.church_id, principal.person_id)
        last_ids = [c["lastPostId"] for _, c in pairs if c["lastPostId"]]
        found = {m["id"]: m for m in await self._store.messages.many(last_ids)}
        result: list[InboxThread] = []
        for thread, conversation in pairs:
            last = found.get(conversation["lastPostId"] or "")
            messages = [last] if last is not None else []
            result.append({**thread, "conversation": {**conversation, "messages": messages}})
        return result

    async def existing(
        self, principal: Principal, person_id: str
    ) -> PrivateMessageRow | dict[str, object]:
        """The thread between the caller and that person, or ``{}``; reading clears it."""
        _require_person(principal)
        thread = await self._store.private_messages.between(
            principal.church_id, principal.person_id, person_id
        )
        if thread is None:
            return {}
        return await self._read(principal, thread)

    async def get(self, principal: Principal, thread_id: str) -> PrivateMessageRow:
        return await self._read(principal, await self._participant_thread(principal, thread_id))

    async def _read(self, principal: Principal, thread: PrivateMessageRow) -> PrivateMessageRow:
        if thread["notifyPersonId"] == principal.person_id:
            if await self._store.private_messages.clear_flag(thread, principal.person_id):
                await self._alerts.tell(principal.church_id, principal.person_id)
            thread = {**thread, "notifyPersonId": None}
        return thread

    async def delete(self, principal: Principal, thread_id: str) -> None:
        """Delete the thread with its conversation and messages, for both people."""
        thread = await self._participant_thread(principal, thread_id)
        await self._store.private_messages.delete_thread(thread)
        if thread["notifyPersonId"]:
            await self._alerts.tell(thread["churchId"], thread["notifyPersonId"])

    async def _participant_thread(self, principal: Principal, thread_id: str) -> PrivateMessageRow:
        _require_person(principal)
        thread = await self._store.private_messages.get(principal.church_id, thread_id)
        if thread is None:
            raise NotFound("private message thread not found")
        if principal.person_id not in (thread["fromPersonId"], thread["toPersonId"]):
            raise Unauthorized()
        return thread

    # --- after a message (a MessageService listener) -------------------------------------

    async def after_message(
        self, sender: Principal, message: MessageRow, conversation: ConversationRow
    ) -> None:
        """Flag the other person of the thread and tell their ``alerts`` sockets."""
        if conversation.get("contentType") != ContentType.PRIVATE_MESSAGE:
            return
        if message.get("messageType") == SUBSCRIPTION:
            return  # a notification switch notifies nobody (PROTOCOL.md 4)
        await self._flag_recipient(message, conversation)

    async def _flag_recipient(self, message: MessageRow, conversation: ConversationRow) -> None:
        thread = await self._store.private_messages.for_conversation(conversation["id"])
        if thread is None:
            return
        sender = message["personId"]
        recipient = thread["toPersonId" if sender == thread["fromPersonId"] else "fromPersonId"]
        title = f"New message from {message['displayName']}"
        await self._store.private_messages.flag(thread["id"], recipient)
        shadow = new_notification(
            thread["churchId"],
            recipient,
            (ContentType.PRIVATE_MESSAGE, thread["id"]),
            message=title,
            sent=message["timeSent"],
            triggered_by=sender,
        )
        await self._store.notifications.keep_shadow(shadow)
        news = message_news(message, conversation, title=title, private=True)
        await self._alerts.tell(
            thread["churchId"], recipient, message=message, title=title, push=news
        )


class InboxThread(PrivateMessageRow):
    """A thread with its conversation and that conversation's last message."""

    conversation: ConversationView


def _parse_entry(principal: Principal, entry: dict[str, Any]) -> tuple[str, str]:
    to_person = validation.identifier(entry, "toPersonId", max_length=ID_LENGTH)
    conversation_id = validation.identifier(
        entry, "conversationId", required=False, max_length=ID_LENGTH
    )
    if to_person == principal.person_id:
        raise BadRequest("'toPersonId' must be someone other than the caller")
    return to_person, conversation_id


def _require_person(principal: Principal) -> None:
    if not access.can_use_alerts(principal):
        raise Unauthorized()
