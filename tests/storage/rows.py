"""Row builders for the storage suite: typed rows keyed by ChurchApps column names; the
``fields`` given override (or add) columns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from steeple.storage.rows import ConnectionRow, ConversationRow, MessageRow
from steeple.types import new_id

BASE = datetime(2025, 3, 14, 15, 9, 26, 535000)


def at(milliseconds: int = 0, microseconds: int = 0) -> datetime:
    return BASE + timedelta(milliseconds=milliseconds, microseconds=microseconds)


def connection(
    socket_id: str, name: str, room: tuple[str, str] = ("CH1", "conv1"), **fields: Any
) -> ConnectionRow:
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
    return cast(ConnectionRow, {**row, **fields})


def conversation(
    church: str = "CH1", content_type: str = "group", content_id: str = "G1", **fields: Any
) -> ConversationRow:
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
    return cast(ConversationRow, {**row, **fields})


def message(
    conversation_row: ConversationRow, sent: datetime, content: str = "hi", **fields: Any
) -> MessageRow:
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
    return cast(MessageRow, {**row, **fields})
