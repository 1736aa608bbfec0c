"""A ChurchApps membership database for one test: its own MariaDB or PostgreSQL database
holding a ``groups`` table with ChurchApps' columns, dropped afterwards.

The switches are ``bit(1)`` with default 1, as ChurchApps declares them; a test may ask
for ``tinyint(1)`` or ``boolean`` columns instead, as other installations have them.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import TextClause, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from steeple.storage.engine import async_url
from tests.support.services import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL, require

SWITCHES = ("discussionsEnabled", "announcementsEnabled")

_MARIADB_GROUPS = """
CREATE TABLE `groups` (
  id char(11) NOT NULL,
  churchId char(11) DEFAULT NULL,
  categoryName varchar(50) DEFAULT NULL,
  name varchar(50) DEFAULT NULL,
  trackAttendance bit(1) DEFAULT NULL,
  parentPickup bit(1) DEFAULT NULL,
  about text,
  photoUrl varchar(255) DEFAULT NULL,
  removed bit(1) DEFAULT b'0',
  tags varchar(45) DEFAULT NULL,
  slug varchar(45) DEFAULT NULL,
  discussionsEnabled {kind} DEFAULT {on},
  announcementsEnabled {kind} DEFAULT {on},
  PRIMARY KEY (id),
  KEY ix_groups_churchId (churchId)
)
"""

_POSTGRES_GROUPS = """
CREATE TABLE groups (
  id char(11) PRIMARY KEY,
  "churchId" char(11),
  "categoryName" varchar(50),
  name varchar(50),
  about text,
  removed boolean DEFAULT false,
  "discussionsEnabled" {kind} DEFAULT {on},
  "announcementsEnabled" {kind} DEFAULT {on}
)
"""

_ON = {"bit(1)": "b'1'", "tinyint(1)": "1", "boolean": "true"}


class MembershipDb:
    """The test's handle: add groups, flip their switches (``None`` stores NULL)."""

    def __init__(self, engine: AsyncEngine, url: str, kind: str) -> None:
        self._engine = engine
        self.url = url
        self._kind = kind

    async def add_group(self, group_id: str, church_id: str = "CH1") -> None:
        """A group as ChurchApps creates it: switches left to their defaults."""
        statement = self._statement("INSERT INTO {groups} (id, {church}, name) VALUES (:g, :c, :n)")
        async with self._engine.begin() as db:
            await db.execute(statement, {"g": group_id, "c": church_id, "n": f"{group_id} group"})

    async def set(self, group_id: str, switch: str, on: bool | None) -> None:
        assert switch in SWITCHES
        value = self._value_sql()
        statement = self._statement(f"UPDATE {{groups}} SET {{{switch}}} = {value} WHERE id = :g")
        async with self._engine.begin() as db:
            await db.execute(statement, {"g": group_id, "v": None if on is None else self._on(on)})

    def _on(self, on: bool) -> int | bool:
        return on if self._kind == "boolean" else int(on)

    def _value_sql(self) -> str:
        postgres = self._engine.dialect.name == "postgresql"
        if postgres and self._kind == "bit(1)":
            return "CAST(CAST(:v AS integer) AS bit(1))"
        return ":v"

    def _statement(self, template: str) -> TextClause:
        if self._engine.dialect.name == "postgresql":
            names = {"groups": "groups", "church": '"churchId"'}
            names |= {s: f'"{s}"' for s in SWITCHES}
        else:
            names = {"groups": "`groups`", "church": "churchId"} | {s: s for s in SWITCHES}
        return text(template.format(**names))


@asynccontextmanager
async def membership_db(
    kind: str = "mariadb", column: str = "bit(1)"
) -> AsyncIterator[MembershipDb]:
    """A fresh membership database of ``kind`` (``mariadb``/``postgres``), dropped after."""
    name = "membership_" + secrets.token_hex(4)
    admin_url = MARIADB_ADMIN_URL if kind == "mariadb" else POSTGRES_ADMIN_URL
    address = make_url(admin_url)
    port = address.port or (3306 if kind == "mariadb" else 5432)
    require("MariaDB" if kind == "mariadb" else "PostgreSQL", address.host or "", port)
    admin = create_async_engine(async_url(admin_url), isolation_level="AUTOCOMMIT")
    quoted = f"`{name}`" if kind == "mariadb" else f'"{name}"'
    url = address.set(database=name).render_as_string(hide_password=False)
    engine: AsyncEngine | None = None
    try:
        async with admin.connect() as db:
            await db.execute(text(f"CREATE DATABASE {quoted}"))
        engine = create_async_engine(async_url(url))
        ddl = _MARIADB_GROUPS if kind == "mariadb" else _POSTGRES_GROUPS
        async with engine.begin() as db:
            await db.execute(text(ddl.format(kind=column, on=_ON[column])))
        yield MembershipDb(engine, url, column)
    finally:
        if engine is not None:
            await engine.dispose()
        force = "" if kind == "mariadb" else " WITH (FORCE)"
        async with admin.connect() as db:
            await db.execute(text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
        await admin.dispose()
