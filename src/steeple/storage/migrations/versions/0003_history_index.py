"""the history index on an adopted ChurchApps database

Every history page is read along ``ix_messages_conversation`` (conversationId, timeSent)
and stops at the page size; MySQL and MariaDB are told to use it by name. Databases
created by 0001 have it; a ChurchApps database adopted as it is (stamped at 0001) may
not, and without it a page of a big room would scan and sort the room.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_conversation"


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("messages")}
    if INDEX not in existing:
        op.create_index(INDEX, "messages", ["conversationId", "timeSent"], unique=False)


def downgrade() -> None:
    pass  # 0001 owns the index on databases it created; an adopted one may keep it
