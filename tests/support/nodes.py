"""Settings, secrets, tokens and scratch databases for a test node."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.engine import make_url

from steeple.auth.principal import issue_token
from steeple.settings import OFF, RATE_LIMITS, Settings
from tests.support.services import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL

JWT_SECRET = "test-secret-0123456789abcdef0123456789"


ENCRYPTION_KEY = "0123456789abcdef0123456789abcdef"
NO_RATE_LIMITS: dict[str, Any] = {name: OFF for name in RATE_LIMITS}
"""``node_settings(url, **NO_RATE_LIMITS)``: for a test that floods a node on purpose
from one address and is not about rate limits (tests/e2e/test_rate_limits.py is)."""


def node_settings(database_url: str, **overrides: Any) -> Settings:
    """A test node's settings. The flood hold is off unless a test turns it on: the
    suite's clients send thousands of deliberate bad requests from 127.0.0.1, which
    would hold the test client itself (tests/e2e/test_flood_hold.py tests the hold)."""
    env = {"JWT_SECRET": JWT_SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY, "DATABASE_URL": database_url}
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "socket_port": 0}
    values.update(attendance_interval=0.02, flood_hold_seconds=0)
    values.update(overrides)
    return Settings.from_env(env).override(**values)


def token(church: str = "CH1", person: str = "P1", **claims: Any) -> str:
    return issue_token(
        JWT_SECRET,
        church_id=church,
        person_id=person,
        first_name=claims.pop("first_name", "Pat"),
        last_name=claims.pop("last_name", person),
        **claims,
    )


def auth(church: str = "CH1", person: str = "P1", **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(church, person, **claims)}"}


async def create_postgres() -> str:
    import asyncpg

    name = "steeple_t_" + secrets.token_hex(4)
    url = make_url(POSTGRES_ADMIN_URL)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_postgres(db_url: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(db_url).database}" WITH (FORCE)')
    await admin.close()


async def mariadb(statement: str) -> None:
    import aiomysql

    url = make_url(MARIADB_ADMIN_URL)
    conn = await aiomysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        db=url.database,
    )
    async with conn.cursor() as cursor:
        await cursor.execute(statement)
    conn.close()
