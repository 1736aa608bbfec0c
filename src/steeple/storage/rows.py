"""The row of each table, typed: keys are the ChurchApps column names, which are also the
JSON keys (PROTOCOL.md 6), so a row goes on the wire as it is read.

A row is a ``TypedDict``: still a plain dict (orjson encodes it as is), but mypy checks
every key a caller looks up. A new conversation and a new notification are built here
and nowhere else (:func:`new_conversation`, :func:`new_notification`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy.engine import Result
from sqlalchemy.engine import Row as SqlRow

from steeple.types import new_id

R = TypeVar("R", bound=Mapping[str, Any])


class ConversationRow(TypedDict):
    id: str
    churchId: str
    contentType: str
    contentId: str
    title: str
    dateCreated: datetime
    groupId: str | None
    visibility: str | None
    firstPostId: str | None
    lastPostId: str | None
    postCount: int | None
    allowAnonymousPosts: bool | None


class MessageRow(TypedDict):
    id: str
    churchId: str
    conversationId: str
    displayName: str | None
    timeSent: datetime
    messageType: str | None
    content: str
    personId: str | None
    timeUpdated: datetime | None


class ReactionRow(TypedDict):
    id: str
    churchId: str
    messageId: str
    conversationId: str
    personId: str
    emoji: str
    timeAdded: datetime


class PrivateMessageRow(TypedDict):
    """A thread: ``notifyPersonId`` is the person who has not read its latest message."""

    id: str
    churchId: str
    fromPersonId: str
    toPersonId: str
    conversationId: str
    notifyPersonId: str | None


class NotificationRow(TypedDict):
    id: str
    churchId: str
    personId: str
    contentType: str | None
    contentId: str | None
    timeSent: datetime
    isNew: bool | None
    message: str | None
    link: str | None
    deliveryMethod: str | None
    triggeredByPersonId: str | None
    category: str | None


class ConnectionRow(TypedDict):
    id: str
    churchId: str
    conversationId: str
    personId: str | None
    displayName: str
    timeJoined: datetime
    socketId: str
    ipAddress: str | None


class ViewerRow(TypedDict):
    """The columns of a connection that attendance shows."""

    id: str
    displayName: str | None
    ipAddress: str | None


class BlockedIpRow(TypedDict):
    id: str
    churchId: str
    conversationId: str
    serviceId: str | None
    ipAddress: str


class DeviceRow(TypedDict):
    id: str
    appName: str | None
    deviceId: str | None
    churchId: str
    personId: str
    fcmToken: str | None
    label: str | None
    registrationDate: datetime | None
    lastActiveDate: datetime | None
    deviceInfo: str | None


class DeviceChanges(TypedDict, total=False):
    """The columns an enrollment sets; what it does not send stays as stored."""

    personId: str
    fcmToken: str
    appName: str
    deviceId: str
    label: str
    deviceInfo: str
    lastActiveDate: datetime


class PreferenceRow(TypedDict):
    id: str
    churchId: str
    personId: str
    allowPush: bool | None
    emailFrequency: str | None
    masterMute: bool | None
    quietHoursStart: time | None
    quietHoursEnd: time | None
    timeZone: str | None
    allowSms: bool | None
    maxPushPerDay: int | None


class PreferenceChanges(TypedDict, total=False):
    """The columns a person may change, each checked."""

    allowPush: bool
    emailFrequency: str
    masterMute: bool
    quietHoursStart: time | None
    quietHoursEnd: time | None
    timeZone: str | None
    maxPushPerDay: int | None


class PreferenceOverrideRow(TypedDict):
    id: str
    churchId: str
    personId: str
    categoryKey: str
    channel: str
    optedIn: bool | None
    updatedAt: datetime


class DeliveryLogRow(TypedDict):
    id: str
    churchId: str
    personId: str
    contentType: str | None
    contentId: str | None
    deliveryMethod: str | None
    success: bool | None
    errorMessage: str | None
    deliveryAddress: str | None
    attemptTime: datetime


class HeldPushRow(TypedDict):
    id: str
    churchId: str
    personId: str
    topic: str
    category: str | None
    contentType: str | None
    contentId: str | None
    title: str
    body: str
    link: str
    urgent: bool | None
    heldAt: datetime
    releaseAt: datetime


def new_conversation(
    church_id: str,
    content_type: str,
    content_id: str,
    *,
    title: str,
    visibility: str,
    allow_anonymous: bool,
    created: datetime,
    group_id: str | None = None,
) -> ConversationRow:
    """A conversation not written yet: no posts, a fresh id."""
    return {
        "id": new_id(),
        "churchId": church_id,
        "contentType": content_type,
        "contentId": content_id,
        "title": title,
        "dateCreated": created,
        "groupId": group_id,
        "visibility": visibility,
        "firstPostId": None,
        "lastPostId": None,
        "postCount": 0,
        "allowAnonymousPosts": allow_anonymous,
    }


def new_delivery_log(
    church_id: str,
    person_id: str,
    content: tuple[str | None, str | None],
    method: str,
    now: datetime,
    outcome: tuple[bool, str | None, str | None] = (True, None, None),
) -> DeliveryLogRow:
    """A delivery attempt: ``content`` is (contentType, contentId), ``outcome`` is
    (success, errorMessage, deliveryAddress)."""
    success, error, address = outcome
    return {
        "id": new_id(),
        "churchId": church_id,
        "personId": person_id,
        "contentType": content[0],
        "contentId": content[1],
        "deliveryMethod": method,
        "success": success,
        "errorMessage": error,
        "deliveryAddress": address,
        "attemptTime": now,
    }


def new_notification(
    church_id: str,
    person_id: str,
    content: tuple[str | None, str | None],
    *,
    message: str,
    sent: datetime,
    triggered_by: str | None,
    link: str | None = None,
    delivery_method: str | None = None,
    category: str | None = None,
) -> NotificationRow:
    """An unread notification to one person about ``content`` (contentType, contentId)."""
    content_type, content_id = content
    return {
        "id": new_id(),
        "churchId": church_id,
        "personId": person_id,
        "contentType": content_type,
        "contentId": content_id,
        "timeSent": sent,
        "isNew": True,
        "message": message,
        "link": link,
        "deliveryMethod": delivery_method,
        "triggeredByPersonId": triggered_by,
        "category": category,
    }


def as_row(kind: type[R], row: SqlRow[Any] | None) -> R | None:
    """``row`` as a ``kind`` (the row type of the table it was read from)."""
    return None if row is None else cast("R", plain(row))


def as_rows(kind: type[R], rows: Iterable[SqlRow[Any]]) -> list[R]:
    """Each of ``rows`` as a ``kind``. A query's result shares one set of keys, so they
    are read once, not per row (a history page is 200 rows)."""
    if isinstance(rows, Result):
        keys = [str(key) for key in rows.keys()]  # noqa: SIM118 (a Result, not a dict)
        return cast("list[R]", [dict(zip(keys, row, strict=True)) for row in rows.all()])
    return cast("list[R]", [plain(row) for row in rows])


def plain(row: SqlRow[Any]) -> dict[str, Any]:
    # SQLAlchemy keys are ``quoted_name`` (a str subclass) that orjson refuses as dict
    # keys; plain ``str`` keys keep every row JSON-encodable.
    return {str(key): value for key, value in row._mapping.items()}
