"""Notifications: a conversation's subscribers hear about new messages; the bell's
list and counts.

A subscriber is a person whose latest message in the conversation is an ordinary
post or a ``subscription`` switch other than ``"off"`` (PROTOCOL.md 7), so "mute this
thread" mutes it. Switches themselves notify nobody.

Live-stream rooms never notify (a Sunday chat would page everyone who ever said
hello), and private-message threads are handled by
:mod:`steeple.services.private_messages`.
"""

from __future__ import annotations

from steeple import access
from steeple.auth.principal import Principal
from steeple.errors import Unauthorized
from steeple.protocol.content_types import ContentType
from steeple.services.alerts import Alerts
from steeple.services.context import Context
from steeple.services.push_news import message_news
from steeple.storage.messages import SUBSCRIPTION
from steeple.storage.rows import ConversationRow, MessageRow, NotificationRow, new_notification

NOTIFICATION_CONTENT = 45
SILENT_TYPES = frozenset(
    {
        ContentType.STREAMING_LIVE,
        ContentType.FREESHOW,
        ContentType.STREAMING_LIVE_HOST,
        ContentType.PRIVATE_MESSAGE,
    }
)


class NotificationService:
    def __init__(self, ctx: Context, alerts: Alerts) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._alerts = alerts

    # --- after a message (a MessageService listener) -------------------------------------

    async def after_message(
        self, sender: Principal, message: MessageRow, conversation: ConversationRow
    ) -> None:
        """Notify the conversation's subscribers."""
        if conversation.get("contentType") in SILENT_TYPES:
            return
        if message.get("messageType") == SUBSCRIPTION:
            return
        await self._notify_subscribers(message, conversation)

    async def _notify_subscribers(self, message: MessageRow, conversation: ConversationRow) -> None:
        church_id = conversation["churchId"]
        people = await self._store.messages.subscribers(conversation["id"])
        people.discard(message["personId"])
        if not people:
            return
        content_type, content_id = _content(conversation)
        people -= await self._store.notifications.with_unread(
            church_id, content_type, content_id, people
        )
        title = f"New message: {conversation.get('title') or ''}".strip()
        rows = [
            new_notification(
                church_id,
                person,
                (content_type, content_id),
                message=title,
                sent=self._ctx.clock.now(),
                triggered_by=message["personId"],
            )
            for person in sorted(people)
        ]
        await self._store.notifications.add(rows)
        push_title = str(conversation.get("title") or "") or "New message"
        news = message_news(message, conversation, title=push_title, private=False)
        for row in rows:
            await self._alerts.tell(church_id, row["personId"], title=title, push=news)

    # --- the bell --------------------------------------------------------------------------

    async def unread_count(self, principal: Principal) -> dict[str, int]:
        _require_person(principal)
        return await self._alerts.counts(principal.church_id, principal.person_id)

    async def mine(self, principal: Principal) -> list[NotificationRow]:
        """The caller's notifications newest first; reading them marks them read."""
        _require_person(principal)
        rows = await self._store.notifications.for_person(principal.church_id, principal.person_id)
        await self._changed(
            principal.church_id,
            principal.person_id,
            await self._store.notifications.mark_read(principal.church_id, principal.person_id),
        )
        return rows

    async def mark_read(self, principal: Principal, church_id: str, person_id: str) -> None:
        if not access.can_mark_read(principal, church_id, person_id):
            raise Unauthorized()
        changed = await self._store.notifications.mark_read(church_id, person_id)
        await self._changed(church_id, person_id, changed)

    async def delete_mine(self, principal: Principal) -> None:
        _require_person(principal)
        church_id, person_id = principal.church_id, principal.person_id
        changed = await self._store.notifications.delete_for(church_id, person_id)
        await self._changed(church_id, person_id, changed)

    async def _changed(self, church_id: str, person_id: str, rows: int) -> None:
        """Other tabs of the person keep their counts right when one tab reads."""
        if rows:
            await self._alerts.tell(church_id, person_id)


def _content(conversation: ConversationRow) -> tuple[str, str]:
    """The conversation's content, cut to the notification columns' 45 characters."""
    return (
        str(conversation.get("contentType") or "")[:NOTIFICATION_CONTENT],
        str(conversation.get("contentId") or "")[:NOTIFICATION_CONTENT],
    )


def _require_person(principal: Principal) -> None:
    if not access.can_use_alerts(principal):
        raise Unauthorized()
