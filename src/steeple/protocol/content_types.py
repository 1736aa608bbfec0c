"""The conversation content types Steeple has rules for (PROTOCOL.md 5).

``contentType`` is an open string on the wire: a ChurchApps client may file a
conversation under any type, and the types below are the ones that change who may
read, post, be notified or see the room. A member equals its string, so rows read
from the database compare with them directly.
"""

from __future__ import annotations

from enum import StrEnum


class ContentType(StrEnum):
    STREAMING_LIVE = "streamingLive"
    """A live stream's chat: anonymous-public when the conversation allows it."""
    STREAMING_LIVE_HOST = "streamingLiveHost"
    """The hosts' back-room of a live stream."""
    FREESHOW = "freeshow"
    """FreeShow's team-sync rooms: anonymous-public like a live stream (PROTOCOL.md 5.2)."""
    GROUP = "group"
    GROUP_ANNOUNCEMENT = "groupAnnouncement"
    """A group feed only its leaders post to."""
    PERSON = "person"
    """Notes about a person."""
    PERSON_CONFIDENTIAL = "personConfidential"
    """Confidential notes about a person."""
    PRIVATE_MESSAGE = "privateMessage"
    """A private thread between two people; also the type of its unread shadow rows."""
    WORKFLOW_CARD = "workflowCard"
    """A task card: readable by the task permission only."""


ANONYMOUS_PUBLIC_TYPES = (ContentType.STREAMING_LIVE, ContentType.FREESHOW)
GROUP_TYPES = (ContentType.GROUP, ContentType.GROUP_ANNOUNCEMENT)
NOTES_TYPES = (ContentType.PERSON, ContentType.PERSON_CONFIDENTIAL)
