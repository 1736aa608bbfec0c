"""A database at the first schema (revision 0001) upgrades in place to head, data kept.

Two cases: Steeple's own database from before revision 2, and an adopted ChurchApps
database that already holds a revision-2 table of its own (left as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text

from steeple.storage.engine import MIGRATIONS
from steeple.storage.schema import connections, conversations, messages, notifications
from steeple.storage.store import Store
from tests.storage.rows import at, connection, conversation, message

R2_TABLES = {
    "devices",
    "notificationPreferences",
    "notificationPreferenceOverrides",
    "deliveryLogs",
}


def _config(db: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = db
    return config


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def _at_first_revision(store: Store) -> None:
    async with store.engine.begin() as db:
        await db.run_sync(lambda sync: command.upgrade(_config(sync), "0001"))


def _notification(conversation_row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": "notif000001",
        "churchId": "CH1",
        "personId": "P2",
        "contentType": "group",
        "contentId": "G1",
        "timeSent": at(3),
        "isNew": True,
        "message": "New message: G1",
        "link": None,
        "deliveryMethod": None,
        "triggeredByPersonId": "P1",
        "category": None,
    }


async def _tables(store: Store) -> set[str]:
    async with store.engine.connect() as db:
        return set(await db.run_sync(lambda c: inspect(c).get_table_names()))


async def test_a_revision_one_database_upgrades_in_place(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        await _at_first_revision(store)
        assert not (await _tables(store)) & R2_TABLES
        room = conversation()
        post = message(room, at(1), "before the upgrade")
        joined = connection("sock1", "Ann", ("CH1", room["id"]))
        async with store.engine.begin() as db:
            await db.execute(conversations.insert().values(**room))
            await db.execute(messages.insert().values(**post))
            await db.execute(connections.insert().values(**joined))
            await db.execute(notifications.insert().values(**_notification(room)))

        await store.migrate()

        async with store.engine.connect() as db:
            version = (await db.scalars(text("SELECT version_num FROM alembic_version"))).all()
        assert list(version) == [_head()]
        assert await _tables(store) >= R2_TABLES
        async with store.engine.connect() as db:
            assert (await db.execute(select(conversations))).all()[0].title == room["title"]
            assert (await db.execute(select(messages))).all()[0].content == "before the upgrade"
            assert (await db.execute(select(connections))).all()[0].socketId == "sock1"
        assert await store.notifications.counts("CH1", "P2") == {
            "notificationCount": 1,
            "pmCount": 0,
        }
        await store.preferences.set_overrides("CH1", "P2", [("tasks", "push", False)], at(4))
        assert len(await store.preferences.overrides("CH1", "P2")) == 1
    finally:
        await store.close()


CHURCHAPPS_DEVICES = (
    ("id", "char(11) NOT NULL PRIMARY KEY"),
    ("appName", "varchar(20)"),
    ("deviceId", "varchar(45)"),
    ("churchId", "char(11)"),
    ("personId", "char(11)"),
    ("fcmToken", "varchar(255)"),
    ("label", "varchar(45)"),
    ("registrationDate", "{time}"),
    ("lastActiveDate", "{time}"),
    ("deviceInfo", "text"),
    ("admId", "varchar(255)"),
    ("pairingCode", "varchar(45)"),
    ("ipAddress", "varchar(45)"),
)
"""ChurchApps' ``devices`` table, TV-pairing columns included."""


def _create_churchapps_devices(database_url: str) -> str:
    mysql = database_url.startswith("mysql")
    quote = "`" if mysql else '"'
    kind = "timestamp" if database_url.startswith("postgres") else "datetime"
    columns = ", ".join(
        f"{quote}{name}{quote} {sql.format(time=kind)}" for name, sql in CHURCHAPPS_DEVICES
    )
    return f"CREATE TABLE devices ({columns})"


def _insert_churchapps_device(database_url: str) -> str:
    quote = "`" if database_url.startswith("mysql") else '"'
    names = ", ".join(
        f"{quote}{n}{quote}" for n in ("id", "appName", "churchId", "personId", "fcmToken")
    )
    return (
        f"INSERT INTO devices ({names}) "
        "VALUES ('dev00000001', 'B1Mobile', 'CH1', 'P1', 'ExponentPushToken[x]')"
    )


async def test_an_adopted_revision_two_table_is_kept_as_it_is(database_url: str) -> None:
    """ChurchApps' own ``devices`` table (with its TV-pairing columns) survives the upgrade."""
    store = Store.open(database_url)
    try:
        await _at_first_revision(store)
        async with store.engine.begin() as db:
            await db.execute(text(_create_churchapps_devices(database_url)))
            await db.execute(text(_insert_churchapps_device(database_url)))
        await store.migrate()
        async with store.engine.connect() as db:
            columns = await db.run_sync(lambda c: inspect(c).get_columns("devices"))
        assert "pairingCode" in {c["name"] for c in columns}
        found = await store.devices.by_token("CH1", "ExponentPushToken[x]")
        assert found is not None and found["id"] == "dev00000001"
        assert await _tables(store) >= R2_TABLES
    finally:
        await store.close()
