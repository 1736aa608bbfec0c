"""Attendance through real sockets: join, rename, leave, close, legacy anonymous names."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from steeple.node import Node
from tests.support import scenarios
from tests.support.nodes import node_settings
from tests.support.steps import join, live_room, shows
from tests.support.wsclient import TestSocket


def _addresses(frame: dict[str, Any]) -> set[str]:
    return {v["ipAddress"] for v in frame["data"]["viewers"]}


async def test_attendance_follows_join_rename_leave_and_close(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.attendance_follows_join_rename_leave_and_close(http, sockets)


async def test_viewer_addresses_are_per_church_pseudonyms(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    home, away = await live_room(http, "CH1"), await live_room(http, "CH2")
    ann, bob = await sockets(), await sockets()
    rows = await join(http, ann, home, "Ann")
    await join(http, bob, home, "Bob")
    await join(http, ann, away, "Ann")
    frame = await ann.next("attendance", shows("Ann", "Bob"))
    (pseudonym,) = _addresses(frame)  # same address, same church: one stable value
    assert "127.0.0.1" not in pseudonym and pseudonym and len(pseudonym) <= 45
    assert rows[0]["ipAddress"] == pseudonym
    abroad = await ann.next("attendance", lambda f: f["churchId"] == "CH2")
    assert _addresses(abroad) != {pseudonym}
    listed = (await http.get(f"/connections/CH1/{home['id']}")).json()
    assert {r["ipAddress"] for r in listed} == {pseudonym}
    assert "127.0.0.1" not in str(listed) and "127.0.0.1" not in str(frame)


async def test_legacy_anonymous_names_are_numbered(http: httpx.AsyncClient, sockets: Any) -> None:
    await scenarios.legacy_anonymous_names_are_numbered(http, sockets)


async def test_legacy_numbering_continues_after_a_restart(sqlite_url: str) -> None:
    first = Node(node_settings(sqlite_url))
    await first.start()
    async with httpx.AsyncClient(base_url=first.http_url + "/messaging") as http:
        room = await live_room(http)
        guest = await TestSocket.connect(first.socket_url)
        await join(http, guest, room, "Anonymous ")
        await join(http, guest, room, "Anonymous ")  # replaces its own row: still one
        rows = (await http.get(f"/connections/CH1/{room['id']}")).json()
        assert [r["displayName"] for r in rows] == ["Anonymous_2"]
    await first.stop()
    await guest.close()
    # Rows of sockets from a stopped node are swept at start-up; numbering starts again.
    second = Node(node_settings(sqlite_url))
    await second.start()
    async with httpx.AsyncClient(base_url=second.http_url + "/messaging") as http:
        assert (await http.get(f"/connections/CH1/{room['id']}")).json() == []
        guest = await TestSocket.connect(second.socket_url)
        rows = await join(http, guest, room, "Anonymous ")
        assert rows[0]["displayName"] == "Anonymous_1"
        await guest.close()
    await second.stop()


async def test_concurrent_legacy_joins_get_distinct_numbers(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    room = await live_room(http, service="fresh")
    guests = [await sockets() for _ in range(6)]
    joined = await asyncio.gather(*(join(http, g, room, "Anonymous ") for g in guests))
    names = sorted(rows[0]["displayName"] for rows in joined)
    assert names == sorted(f"Anonymous_{n}" for n in range(1, 7))
