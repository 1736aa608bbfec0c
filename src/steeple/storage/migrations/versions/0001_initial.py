"""initial ChurchApps messaging tables

Revision ID: 0001
Revises:
Create Date: 2026-11-27 03:22:50.054604
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Microsecond times keep same-millisecond messages in stored order.
TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "blockedIps",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("conversationId", sa.String(length=11), nullable=True),
        sa.Column("serviceId", sa.String(length=11), nullable=True),
        sa.Column("ipAddress", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_blocked_room", "blockedIps", ["churchId", "conversationId"], unique=False)
    op.create_table(
        "connections",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("conversationId", sa.String(length=64), nullable=True),
        sa.Column("personId", sa.String(length=11), nullable=True),
        sa.Column("displayName", sa.String(length=100), nullable=True),
        sa.Column("timeJoined", TIME, nullable=True),
        sa.Column("socketId", sa.String(length=64), nullable=True),
        sa.Column("ipAddress", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_connections_room", "connections", ["churchId", "conversationId"], unique=False
    )
    op.create_index("ix_connections_socket", "connections", ["socketId"], unique=False)
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("contentType", sa.String(length=255), nullable=True),
        sa.Column("contentId", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("dateCreated", TIME, nullable=True),
        sa.Column("groupId", sa.String(length=11), nullable=True),
        sa.Column("visibility", sa.String(length=45), nullable=True),
        sa.Column("firstPostId", sa.String(length=11), nullable=True),
        sa.Column("lastPostId", sa.String(length=11), nullable=True),
        sa.Column("postCount", sa.Integer(), nullable=True),
        sa.Column("allowAnonymousPosts", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_conversations_content",
        "conversations",
        ["churchId", "contentType", "contentId"],
        unique=False,
    )
    op.create_table(
        "messageReactions",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("messageId", sa.String(length=11), nullable=True),
        sa.Column("conversationId", sa.String(length=11), nullable=True),
        sa.Column("personId", sa.String(length=11), nullable=True),
        sa.Column("emoji", sa.String(length=50), nullable=True),
        sa.Column("timeAdded", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("messageId", "personId", "emoji", name="uq_reaction"),
    )
    op.create_index(
        "ix_reactions_conversation", "messageReactions", ["conversationId"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("conversationId", sa.String(length=11), nullable=True),
        sa.Column("displayName", sa.String(length=45), nullable=True),
        sa.Column("timeSent", TIME, nullable=True),
        sa.Column("messageType", sa.String(length=45), nullable=True),
        sa.Column("content", LONG_TEXT, nullable=True),
        sa.Column("personId", sa.String(length=11), nullable=True),
        sa.Column("timeUpdated", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_messages_conversation", "messages", ["conversationId", "timeSent"], unique=False
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("personId", sa.String(length=11), nullable=True),
        sa.Column("contentType", sa.String(length=45), nullable=True),
        sa.Column("contentId", sa.String(length=45), nullable=True),
        sa.Column("timeSent", TIME, nullable=True),
        sa.Column("isNew", sa.Boolean(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=100), nullable=True),
        sa.Column("deliveryMethod", sa.String(length=10), nullable=True),
        sa.Column("triggeredByPersonId", sa.String(length=11), nullable=True),
        sa.Column("category", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notifications_person", "notifications", ["churchId", "personId"], unique=False
    )
    op.create_table(
        "privateMessages",
        sa.Column("id", sa.String(length=11), nullable=False),
        sa.Column("churchId", sa.String(length=11), nullable=True),
        sa.Column("fromPersonId", sa.String(length=11), nullable=True),
        sa.Column("toPersonId", sa.String(length=11), nullable=True),
        sa.Column("conversationId", sa.String(length=11), nullable=True),
        sa.Column("notifyPersonId", sa.String(length=11), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pm_conversation", "privateMessages", ["conversationId"], unique=False)
    op.create_index(
        "ix_pm_people", "privateMessages", ["churchId", "fromPersonId", "toPersonId"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pm_people", table_name="privateMessages")
    op.drop_index("ix_pm_conversation", table_name="privateMessages")
    op.drop_table("privateMessages")
    op.drop_index("ix_notifications_person", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_reactions_conversation", table_name="messageReactions")
    op.drop_table("messageReactions")
    op.drop_index("ix_conversations_content", table_name="conversations")
    op.drop_table("conversations")
    op.drop_index("ix_connections_socket", table_name="connections")
    op.drop_index("ix_connections_room", table_name="connections")
    op.drop_table("connections")
    op.drop_index("ix_blocked_room", table_name="blockedIps")
    op.drop_table("blockedIps")
