"""the viewers index: a room's attendance read in name order without a sort

Every joiner of a live room is sent its first viewers by displayName (and the room's
total). Along ``ix_connections_room`` alone that read fetched and sorted every row of
the room: about 1 ms at 5,000 viewers, once per joiner batch, on the node's one core.
Along (churchId, conversationId, displayName, id) it reads the first rows in order and
stops; the count reads the same index. A database that has it already keeps it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_connections_viewers"
COLUMNS = ["churchId", "conversationId", "displayName", "id"]


def upgrade() -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("connections")}
    if INDEX not in existing:
        op.create_index(INDEX, "connections", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="connections")
