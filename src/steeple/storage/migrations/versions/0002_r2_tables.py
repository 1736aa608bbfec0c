"""revision 2 tables: devices, notification preferences and overrides, delivery logs,
and Steeple's room settings (slow mode)

A ChurchApps database adopted as it is may already hold the ChurchApps tables of this
revision: those are left untouched, only the missing ones are created.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 08:10:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _id(name: str = "id", **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=11), **kw)  # type: ignore[arg-type]


def _devices() -> None:
    op.create_table(
        "devices",
        _id(nullable=False),
        sa.Column("appName", sa.String(length=20), nullable=True),
        sa.Column("deviceId", sa.String(length=45), nullable=True),
        _id("churchId", nullable=True),
        _id("personId", nullable=True),
        sa.Column("fcmToken", sa.Text(), nullable=True),
        sa.Column("label", sa.String(length=45), nullable=True),
        sa.Column("registrationDate", TIME, nullable=True),
        sa.Column("lastActiveDate", TIME, nullable=True),
        sa.Column("deviceInfo", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_devices_person", "devices", ["churchId", "personId"])


def _preferences() -> None:
    op.create_table(
        "notificationPreferences",
        _id(nullable=False),
        _id("churchId", nullable=True),
        _id("personId", nullable=True),
        sa.Column("allowPush", sa.Boolean(), nullable=True),
        sa.Column("emailFrequency", sa.String(length=10), nullable=True),
        sa.Column("masterMute", sa.Boolean(), nullable=True),
        sa.Column("quietHoursStart", sa.Time(), nullable=True),
        sa.Column("quietHoursEnd", sa.Time(), nullable=True),
        sa.Column("timeZone", sa.String(length=64), nullable=True),
        sa.Column("allowSms", sa.Boolean(), nullable=True),
        sa.Column("maxPushPerDay", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_preferences_person", "notificationPreferences", ["churchId", "personId"])


def _overrides() -> None:
    op.create_table(
        "notificationPreferenceOverrides",
        _id(nullable=False),
        _id("churchId", nullable=True),
        _id("personId", nullable=True),
        sa.Column("categoryKey", sa.String(length=50), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("optedIn", sa.Boolean(), nullable=True),
        sa.Column("updatedAt", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "churchId", "personId", "categoryKey", "channel", name="uq_preference_override"
        ),
    )


def _delivery_logs() -> None:
    op.create_table(
        "deliveryLogs",
        _id(nullable=False),
        _id("churchId", nullable=True),
        _id("personId", nullable=True),
        sa.Column("contentType", sa.String(length=45), nullable=True),
        sa.Column("contentId", sa.String(length=45), nullable=True),
        sa.Column("deliveryMethod", sa.String(length=30), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("errorMessage", sa.Text(), nullable=True),
        sa.Column("deliveryAddress", sa.Text(), nullable=True),
        sa.Column("attemptTime", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_logs_person", "deliveryLogs", ["churchId", "personId"])


def _room_settings() -> None:
    op.create_table(
        "roomSettings",
        _id("conversationId", nullable=False),
        _id("churchId", nullable=True),
        sa.Column("slowModeSeconds", sa.Integer(), nullable=True),
        sa.Column("updatedAt", TIME, nullable=True),
        sa.PrimaryKeyConstraint("conversationId"),
    )


TABLES: dict[str, Callable[[], None]] = {
    "devices": _devices,
    "notificationPreferences": _preferences,
    "notificationPreferenceOverrides": _overrides,
    "deliveryLogs": _delivery_logs,
    "roomSettings": _room_settings,
}


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
