"""Immutable values the client hands to its callers: frames, messages, attendance, counts.

Stores give subscribers these frozen objects (and tuples of them), so a subscriber can
keep a snapshot without it changing under its feet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from steeple.types import Room


@dataclass(frozen=True)
class Frame:
    """One server frame (or the client-local ``reconnect`` event)."""

    church_id: str
    conversation_id: str
    action: str
    data: Any

    @property
    def room(self) -> Room:
        return (self.church_id, self.conversation_id)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Frame:
        return cls(
            str(value.get("churchId") or ""),
            str(value.get("conversationId") or ""),
            str(value["action"]),
            value.get("data"),
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Message:
    """A saved message, as the server serialises it (times are ISO-8601 ``...Z`` strings)."""

    id: str
    church_id: str
    conversation_id: str
    display_name: str
    content: str
    time_sent: str
    person_id: str | None = None
    message_type: str = "message"
    time_updated: str | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Message:
        return cls(
            id=str(value["id"]),
            church_id=_text(value.get("churchId")),
            conversation_id=_text(value.get("conversationId")),
            display_name=_text(value.get("displayName")),
            content=_text(value.get("content")),
            time_sent=_text(value.get("timeSent")),
            person_id=_optional(value.get("personId")),
            message_type=_text(value.get("messageType")) or "message",
            time_updated=_optional(value.get("timeUpdated")),
        )


@dataclass(frozen=True)
class ConversationSnapshot:
    """Every known message of one conversation, oldest first."""

    church_id: str
    conversation_id: str
    messages: tuple[Message, ...]

    @property
    def last_id(self) -> str | None:
        return self.messages[-1].id if self.messages else None


@dataclass(frozen=True)
class Viewer:
    id: str
    display_name: str
    ip_address: str


@dataclass(frozen=True)
class AttendanceSnapshot:
    """Who is in a conversation. ``total_viewers`` is exact even if ``viewers`` is truncated."""

    conversation_id: str
    viewers: tuple[Viewer, ...]
    total_viewers: int

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AttendanceSnapshot:
        viewers = tuple(
            Viewer(_text(v.get("id")), _text(v.get("displayName")), _text(v.get("ipAddress")))
            for v in value.get("viewers") or ()
            if isinstance(v, Mapping)
        )
        total = value.get("totalViewers")
        return cls(
            _text(value.get("conversationId")),
            viewers,
            total if isinstance(total, int) else len(viewers),
        )


@dataclass(frozen=True)
class RoomSettings:
    """What a host set for a room: ``slow_mode_seconds`` between one viewer's posts (0: off)."""

    conversation_id: str
    slow_mode_seconds: int = 0

    @classmethod
    def from_json(cls, value: Any, conversation_id: str = "") -> RoomSettings:
        """From a settings answer, a ``roomSettings`` frame's data or a conversation
        (``slowModeSeconds``; absent, as from an older server, means off)."""
        data = value if isinstance(value, Mapping) else {}
        return cls(
            _text(data.get("conversationId")) or conversation_id,
            _count(data.get("slowModeSeconds")),
        )


@dataclass(frozen=True)
class Counts:
    """Unread counts of a signed-in person."""

    notification_count: int = 0
    pm_count: int = 0

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Counts:
        return cls(_count(value.get("notificationCount")), _count(value.get("pmCount")))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
