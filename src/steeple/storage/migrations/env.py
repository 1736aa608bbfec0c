"""Alembic environment: runs on the connection handed in by ``steeple.storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from steeple.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    with create_engine(url).connect() as sync_connection:
        context.configure(connection=sync_connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
