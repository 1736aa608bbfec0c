"""Row builders for the storage suite: plain dicts keyed by ChurchApps column names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from steeple.types import new_id

BASE = datetime(2025, 3, 14, 15, 9, 26, 535000)


def at(milliseconds: int = 0, microseconds: int = 0) -> datetime:
    return BASE + timedelta(milliseconds=milliseconds, microseconds=microseconds)


def connection(
    socket_id: str, name: str, room: tuple[str, str] = ("CH1", "conv1"), **fields: Any
) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "churchId": room[0],
        "conversationId": room[1],
        "personId": None,
        "displayName": name,
        "timeJoined": at(),
        "socketId": socket_id,
        "ipAddress": "ip-pseudonym",
    }
    row.update(fields)
    return row


def conversation(
    church: str = "CH1", content_type: str = "group", content_id: str = "G1", **fields: Any
) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "churchId": church,
        "contentType": content_type,
        "contentId": content_id,
        "title": f"{content_type} #{content_id}",
        "dateCreated": at(),
        "groupId": None,
        "visibility": "public",
        "firstPostId": None,
        "lastPostId": None,
        "postCount": 0,
        "allowAnonymousPosts": False,
    }
    row.update(fields)
    return row


def message(
    conversation_row: dict[str, Any], sent: datetime, content: str = "hi", **fields: Any
) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "churchId": conversation_row["churchId"],
        "conversationId": conversation_row["id"],
        "displayName": "Pat",
        "timeSent": sent,
        "messageType": "message",
        "content": content,
        "personId": "P1",
        "timeUpdated": None,
    }
    row.update(fields)
    return row
