"""What a push about an alert would say, decided where the news is raised.

Only news pushes: an alert that merely refreshes counts (a tab read something)
carries no :class:`PushNews` and reaches sockets only. The services that raise news
(private messages, conversation notifications, admin notifications) say here what a
phone should show; the push dispatcher decides later whether and where it goes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from steeple.protocol.content_types import ContentType
from steeple.push.message import TEXT_LIMIT
from steeple.storage.rows import ConversationRow, MessageRow

DIRECT_MESSAGES = "direct_messages"
GROUP_MESSAGES = "group_messages"
ANNOUNCEMENTS = "announcements"


@dataclass(frozen=True)
class PushNews:
    title: str
    body: str
    link: str
    topic: str
    """The collapse slot: the conversation, so one thread keeps one alert on a phone."""
    category: str | None
    content_type: str | None = None
    content_id: str | None = None
    urgent: bool = False
    transactional: bool = False
    """Not held by quiet hours nor counted against the daily cap (a test, a schedule)."""
    pushed: asyncio.Future[bool] | None = field(default=None, compare=False)
    """Resolved with whether the push reached a device, for a caller that asks."""


def conversation_link(conversation_id: str) -> str:
    """The deep link a client opens for a conversation (README "Push notifications")."""
    return f"/messages/{conversation_id}"


def message_news(
    message: MessageRow, conversation: ConversationRow, *, title: str, private: bool
) -> PushNews:
    """A new message in a conversation: private messages are urgent and ``direct_messages``."""
    if private:
        category = DIRECT_MESSAGES
    elif conversation.get("contentType") == ContentType.GROUP_ANNOUNCEMENT:
        category = ANNOUNCEMENTS
    else:
        category = GROUP_MESSAGES
    return PushNews(
        title=title,
        body=cut(str(message.get("content") or "")),
        link=conversation_link(conversation["id"]),
        topic=conversation["id"],
        category=category,
        content_type=conversation.get("contentType"),
        content_id=conversation.get("contentId"),
        urgent=private,
    )


def cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "\u2026"
