"""held pushes: notifications kept back for a person's quiet hours

Rows, not timers, so a restart does not lose them (PROTOCOL.md 7.1). A database that
already has the table (created from the metadata, as an adopted one may be) keeps it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _id(name: str = "id", **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=11), **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    if "heldPushes" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "heldPushes",
        _id(nullable=False),
        _id("churchId", nullable=True),
        _id("personId", nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("contentType", sa.String(length=45), nullable=True),
        sa.Column("contentId", sa.String(length=45), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=255), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=True),
        sa.Column("heldAt", TIME, nullable=True),
        sa.Column("releaseAt", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_held_pushes_release", "heldPushes", ["releaseAt"])
    op.create_index("ix_held_pushes_person", "heldPushes", ["churchId", "personId", "topic"])


def downgrade() -> None:
    op.drop_index("ix_held_pushes_person", table_name="heldPushes")
    op.drop_index("ix_held_pushes_release", table_name="heldPushes")
    op.drop_table("heldPushes")
