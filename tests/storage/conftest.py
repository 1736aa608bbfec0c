"""The storage contract suite runs every test over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from steeple.storage.store import Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh database of each kind."""
    opened = Store.open(database_url)
    await opened.migrate()
    yield opened
    await opened.close()
