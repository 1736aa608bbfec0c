"""The ChurchApps ``messaging`` tables, with their table and column names (PROTOCOL.md 6)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Time as TimeOfDayType
from sqlalchemy.dialects import mysql

from steeple.types import ID_LENGTH

metadata = MetaData()

# Microsecond precision keeps the stored order of same-millisecond messages.
Time = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
TimeOfDay = TimeOfDayType()


def _id(name: str = "id", **kw: object) -> Column[str]:
    return Column(name, String(ID_LENGTH), **kw)  # type: ignore[arg-type]


VIEWERS_INDEX = "ix_connections_viewers"
"""A room's viewers in name order (the attendance frames' read), without a sort."""

connections = Table(
    "connections",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    Column("conversationId", String(64)),
    _id("personId"),
    Column("displayName", String(100)),
    Column("timeJoined", Time),
    Column("socketId", String(64)),
    Column("ipAddress", String(45)),
    Index("ix_connections_room", "churchId", "conversationId"),
    Index(VIEWERS_INDEX, "churchId", "conversationId", "displayName", "id"),
    Index("ix_connections_socket", "socketId"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    Column("contentType", String(255)),
    Column("contentId", String(255)),
    Column("title", String(255)),
    Column("dateCreated", Time),
    _id("groupId"),
    Column("visibility", String(45)),
    _id("firstPostId"),
    _id("lastPostId"),
    Column("postCount", Integer),
    Column("allowAnonymousPosts", Boolean),
    Index("ix_conversations_content", "churchId", "contentType", "contentId"),
)

HISTORY_INDEX = "ix_messages_conversation"
"""Serves every history page: a conversation's messages in (timeSent, id) order."""

messages = Table(
    "messages",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("conversationId"),
    Column("displayName", String(45)),
    Column("timeSent", Time),
    Column("messageType", String(45)),
    Column("content", LongText),
    _id("personId"),
    Column("timeUpdated", Time),
    Index(HISTORY_INDEX, "conversationId", "timeSent"),
)

message_reactions = Table(
    "messageReactions",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("messageId"),
    _id("conversationId"),
    _id("personId"),
    Column("emoji", String(50)),
    Column("timeAdded", Time),
    UniqueConstraint("messageId", "personId", "emoji", name="uq_reaction"),
    Index("ix_reactions_conversation", "conversationId"),
)

private_messages = Table(
    "privateMessages",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("fromPersonId"),
    _id("toPersonId"),
    _id("conversationId"),
    _id("notifyPersonId"),
    Index("ix_pm_people", "churchId", "fromPersonId", "toPersonId"),
    Index("ix_pm_conversation", "conversationId"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("personId"),
    Column("contentType", String(45)),
    Column("contentId", String(45)),
    Column("timeSent", Time),
    Column("isNew", Boolean),
    Column("message", Text),
    Column("link", String(100)),
    Column("deliveryMethod", String(10)),
    _id("triggeredByPersonId"),
    Column("category", String(45)),
    Index("ix_notifications_person", "churchId", "personId"),
)

blocked_ips = Table(
    "blockedIps",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("conversationId"),
    _id("serviceId"),
    Column("ipAddress", String(45)),
    Index("ix_blocked_room", "churchId", "conversationId"),
)

# --- revision 2 (PROTOCOL.md 6): push devices, preferences, delivery audit ----------------

devices = Table(
    "devices",
    metadata,
    _id(primary_key=True),
    Column("appName", String(20)),
    Column("deviceId", String(45)),
    _id("churchId"),
    _id("personId"),
    Column("fcmToken", Text),
    Column("label", String(45)),
    Column("registrationDate", Time),
    Column("lastActiveDate", Time),
    Column("deviceInfo", Text),
    Index("ix_devices_person", "churchId", "personId"),
)

notification_preferences = Table(
    "notificationPreferences",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("personId"),
    Column("allowPush", Boolean),
    Column("emailFrequency", String(10)),
    Column("masterMute", Boolean),
    Column("quietHoursStart", TimeOfDay),
    Column("quietHoursEnd", TimeOfDay),
    Column("timeZone", String(64)),
    Column("allowSms", Boolean),
    Column("maxPushPerDay", Integer),
    Index("ix_preferences_person", "churchId", "personId"),
)

notification_preference_overrides = Table(
    "notificationPreferenceOverrides",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("personId"),
    Column("categoryKey", String(50)),
    Column("channel", String(10)),
    Column("optedIn", Boolean),
    Column("updatedAt", Time),
    UniqueConstraint(
        "churchId", "personId", "categoryKey", "channel", name="uq_preference_override"
    ),
)

delivery_logs = Table(
    "deliveryLogs",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("personId"),
    Column("contentType", String(45)),
    Column("contentId", String(45)),
    Column("deliveryMethod", String(30)),
    Column("success", Boolean),
    Column("errorMessage", Text),
    Column("deliveryAddress", Text),
    Column("attemptTime", Time),
    Index("ix_delivery_logs_person", "churchId", "personId"),
)

# Steeple's own (not a ChurchApps table): per-room settings a host sets (PROTOCOL.md 5.6).
room_settings = Table(
    "roomSettings",
    metadata,
    _id("conversationId", primary_key=True),
    _id("churchId"),
    Column("slowModeSeconds", Integer),
    Column("updatedAt", Time),
)

# Steeple's own: pushes held back for a person's quiet hours, released when they end
# (PROTOCOL.md 7.1). One row per person and topic (conversation): a newer push for the
# same conversation replaces the held one.
held_pushes = Table(
    "heldPushes",
    metadata,
    _id(primary_key=True),
    _id("churchId"),
    _id("personId"),
    Column("topic", String(100)),
    Column("category", String(50)),
    Column("contentType", String(45)),
    Column("contentId", String(45)),
    Column("title", String(255)),
    Column("body", Text),
    Column("link", String(255)),
    Column("urgent", Boolean),
    Column("heldAt", Time),
    Column("releaseAt", Time),
    Index("ix_held_pushes_release", "releaseAt"),
    Index("ix_held_pushes_person", "churchId", "personId", "topic"),
)
