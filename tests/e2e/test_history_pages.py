"""History pages over real HTTP (PROTOCOL 5.6): at most HISTORY_LIMIT messages, oldest
first; the newest page without ``after``; ``after=`` walks the room once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from steeple.errors import ConfigError
from steeple.node import Node
from steeple.settings import Settings
from tests.support.history import write_history
from tests.support.nodes import ENCRYPTION_KEY, JWT_SECRET, auth, node_settings
from tests.support.steps import group_room, live_room, send

LIMIT = 4
MEMBER = auth("CH1", "P1", group_ids=["G1"])


@pytest.fixture
async def paged(sqlite_url: str) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    """A node with HISTORY_LIMIT=4."""
    node = Node(node_settings(sqlite_url, history_limit=LIMIT))
    await node.start()
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
        yield node, http
    await node.stop()


def contents(page: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in page]


async def page(
    http: httpx.AsyncClient, url: str, after: str | None = None, **kw: Any
) -> list[dict[str, Any]]:
    response = await http.get(url, params={"after": after} if after else None, **kw)
    assert response.status_code == 200, response.text
    return list(response.json())


async def walk(
    http: httpx.AsyncClient, url: str, after: str, **kw: Any
) -> list[list[dict[str, Any]]]:
    """Every page after ``after``, as a client follows them: until one comes back empty."""
    pages = []
    while found := await page(http, url, after, **kw):
        pages.append(found)
        after = found[-1]["id"]
    return pages


async def test_without_after_the_newest_page_comes_oldest_first(
    paged: tuple[Node, httpx.AsyncClient],
) -> None:
    node, http = paged
    room = await live_room(http)
    url = f"/messages/catchup/CH1/{room['id']}"
    await write_history(node.store, room, [f"m{i}" for i in range(10)])
    assert contents(await page(http, url)) == ["m6", "m7", "m8", "m9"]
    await send(http, room, "posted")  # through the posting path: it joins the newest page
    assert contents(await page(http, url)) == ["m7", "m8", "m9", "posted"]


async def test_after_walks_the_whole_room_exactly_once_on_both_routes(
    paged: tuple[Node, httpx.AsyncClient],
) -> None:
    node, http = paged
    live, group = await live_room(http), await group_room(http)
    texts = [f"m{i}" for i in range(11)]
    for room in (live, group):
        await write_history(node.store, room, texts, ties=3)  # same-instant ties in pages
    routes = [
        (live, f"/messages/catchup/CH1/{live['id']}", {}),
        (group, f"/messages/catchup/CH1/{group['id']}", {"headers": MEMBER}),
        (group, f"/messages/conversation/{group['id']}", {"headers": MEMBER}),
    ]
    for room, url, kw in routes:
        # The conversation's own id names no message: the walk starts at the first one.
        pages = await walk(http, url, room["id"], **kw)
        assert [len(p) for p in pages] == [4, 4, 3], url
        assert [c for p in pages for c in contents(p)] == texts, url
        newest = await page(http, url, **kw)
        assert contents(newest) == texts[-LIMIT:], url


async def test_an_after_that_names_no_message_pages_from_the_first(
    paged: tuple[Node, httpx.AsyncClient],
) -> None:
    node, http = paged
    room, other = await live_room(http), await live_room(http, service="svc2")
    url = f"/messages/catchup/CH1/{room['id']}"
    rows = await write_history(node.store, room, [f"m{i}" for i in range(8)])
    await node.store.messages.delete(rows[5])  # a client's cursor, deleted while it was away
    assert contents(await page(http, url, rows[5]["id"])) == ["m0", "m1", "m2", "m3"]
    (elsewhere,) = await write_history(node.store, other, ["in another room"])
    wrong_room = await http.get(url, params={"after": elsewhere["id"]})
    assert wrong_room.status_code == 400 and "another conversation" in wrong_room.json()["error"]


async def test_the_default_limit_is_200(node: Node, http: httpx.AsyncClient) -> None:
    room = await live_room(http)
    texts = [f"m{i}" for i in range(205)]
    await write_history(node.store, room, texts)
    newest = await page(http, f"/messages/catchup/CH1/{room['id']}")
    assert contents(newest) == texts[5:]
    rest = await walk(http, f"/messages/catchup/CH1/{room['id']}", room["id"])
    assert [len(p) for p in rest] == [200, 5]


def test_history_limit_is_read_from_the_environment_and_checked() -> None:
    env = {"JWT_SECRET": JWT_SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY}
    assert Settings.from_env(env).history_limit == 200
    assert Settings.from_env({**env, "HISTORY_LIMIT": "50"}).history_limit == 50
    for bad in ("0", "-3", "100001"):
        with pytest.raises(ConfigError, match="HISTORY_LIMIT"):
            Settings.from_env({**env, "HISTORY_LIMIT": bad})
    with pytest.raises(ConfigError, match="HISTORY_LIMIT must be an integer"):
        Settings.from_env({**env, "HISTORY_LIMIT": "lots"})
