"""Connection rows: replace semantics, room listings, removal, renames, anonymous numbers."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from steeple.storage.connections import viewers_query
from steeple.storage.schema import VIEWERS_INDEX
from steeple.storage.store import Store
from tests.storage.rows import connection

ROOM = ("CH1", "conv1")
OTHER = ("CH1", "conv2")


async def test_replace_keeps_one_row_per_church_room_socket(store: Store) -> None:
    await store.connections.replace([connection("s1", "Old")])
    await store.connections.replace([connection("s1", "New"), connection("s2", "Bob")])
    await store.connections.replace(
        [connection("s1", "Elsewhere", OTHER), connection("s1", "Other church", ("CH2", "conv1"))]
    )
    rows = await store.connections.in_room(ROOM)
    assert [(r["socketId"], r["displayName"]) for r in rows] == [("s2", "Bob"), ("s1", "New")]
    assert len(await store.connections.in_room(OTHER)) == 1
    assert len(await store.connections.in_room(("CH2", "conv1"))) == 1


async def test_in_room_and_viewers_sort_by_name_with_exact_total(store: Store) -> None:
    names = ["Carol", "alice", "Bob", "Dave", "Anonymous_2"]
    await store.connections.replace([connection(f"s{i}", n) for i, n in enumerate(names)])
    await store.connections.replace([connection("x", "Zed", OTHER)])
    listed = [r["displayName"] for r in await store.connections.in_room(ROOM)]
    assert sorted(listed, key=str.lower) == sorted(names, key=str.lower)
    assert len(listed) == 5
    everyone, total = await store.connections.viewers(ROOM, 500)
    assert total == 5 and len(everyone) == 5
    assert set(everyone[0]) == {"id", "displayName", "ipAddress"}
    some, total = await store.connections.viewers(ROOM, 2)
    assert total == 5 and len(some) == 2
    assert [r["displayName"] for r in some] == [r["displayName"] for r in everyone[:2]]
    assert await store.connections.viewers(("CH1", "empty"), 10) == ([], 0)


async def test_remove_and_remove_socket_report_what_they_removed(store: Store) -> None:
    await store.connections.replace(
        [
            connection("s1", "Ann"),
            connection("s2", "Bob"),
            connection("s1", "Ann", OTHER),
            connection("s1", "Ann", ("CH2", "alerts")),
        ]
    )
    assert await store.connections.remove(ROOM, "s2") == 1
    assert await store.connections.remove(ROOM, "s2") == 0
    rooms = await store.connections.remove_socket("s1")
    assert sorted(rooms) == sorted([ROOM, OTHER, ("CH2", "alerts")])
    assert await store.connections.in_room(ROOM) == []
    assert await store.connections.socket_rows("s1") == []
    assert await store.connections.remove_socket("s1") == []
    assert await store.connections.socket_ids() == set()


async def test_rename_touches_only_the_given_rooms(store: Store) -> None:
    await store.connections.replace(
        [connection("s1", "Ann"), connection("s1", "Ann", OTHER), connection("s2", "Bob")]
    )
    await store.connections.rename("s1", [ROOM], "Annie")
    names = {
        (r["conversationId"], r["socketId"]): r["displayName"]
        for room in (ROOM, OTHER)
        for r in await store.connections.in_room(room)
    }
    assert names == {("conv1", "s1"): "Annie", ("conv2", "s1"): "Ann", ("conv1", "s2"): "Bob"}


async def test_highest_anonymous_number_reads_only_anonymous_underscore_names(store: Store) -> None:
    assert await store.connections.highest_anonymous_number(ROOM) == 0
    names = ["Anonymous_3", "Anonymous_12", "Anonymous_x", "AnonymousX99", "Anonymous 40", "Bob"]
    await store.connections.replace([connection(f"s{i}", n) for i, n in enumerate(names)])
    await store.connections.replace([connection("o", "Anonymous_77", OTHER)])
    assert await store.connections.highest_anonymous_number(ROOM) == 12


async def test_concurrent_joins_of_one_socket_leave_one_row(store: Store) -> None:
    """Joins committed together (group commit) still replace one another."""
    await asyncio.gather(
        *(store.new_connections.add([connection("s1", f"Name {i}")]) for i in range(5))
    )
    rows = await store.connections.in_room(ROOM)
    assert [(r["socketId"], r["displayName"]) for r in rows] == [("s1", "Name 4")]


async def test_signed_in_names_are_the_rooms_rows_with_a_person(store: Store) -> None:
    await store.connections.replace(
        [
            connection("s1", "Pastor Ann", personId="PA"),
            connection("s2", "Pastor Ann", personId="PA"),  # a second tab: one name
            connection("s3", "Guest"),
            connection("s4", "", personId="PB"),
            connection("s5", "Elder Bo", room=("CH1", "conv2"), personId="PC"),
            connection("s6", "Elder Cy", room=("CH2", "conv1"), personId="PD"),
        ]
    )
    assert await store.connections.signed_in_names(("CH1", "conv1")) == ["Pastor Ann"]
    assert await store.connections.signed_in_names(("CH1", "empty")) == []


async def test_the_viewers_read_goes_along_its_index_without_a_sort(sqlite_url: str) -> None:
    """Every joiner of a live room is sent its first viewers: at 5,000 viewers a sort
    of the whole room cost about 1 ms of the node's core per read."""
    store = Store.open(sqlite_url)
    try:
        await store.migrate()
        query = viewers_query(ROOM, 200).compile(
            dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
        )
        async with store.engine.connect() as db:
            plan = " ".join(
                str(row[-1]) for row in await db.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            )
        assert VIEWERS_INDEX in plan and "TEMP B-TREE" not in plan
    finally:
        await store.close()
