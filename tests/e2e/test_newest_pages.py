"""The newest history page, kept encoded on a single node: read from the database once
while nothing changes, and never older than the last change, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from steeple.node import Node
from tests.support.alert_steps import open_thread
from tests.support.metrics import metrics
from tests.support.nodes import auth
from tests.support.steps import group_room, post

LEADER = auth("CH1", "P1", group_ids=["G1"], leader_group_ids=["G1"])
MEMBER = auth("CH1", "P2", group_ids=["G1"])
EDITOR = auth("CH1", "P9", permissions=["Content__Edit"])


@pytest.fixture
def history_reads(node: Node) -> Iterator[list[str]]:
    """Every statement that reads the messages table's rows, as the database is sent it."""
    seen: list[str] = []

    def note(_db: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM messages" in statement:
            seen.append(statement)

    engine = node.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


async def newest(http: httpx.AsyncClient, room: dict[str, Any], **kw: Any) -> list[str]:
    response = await http.get(f"/messages/catchup/CH1/{room['id']}", **kw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return [message["content"] for message in response.json()]


async def test_the_page_is_read_once_while_nothing_changes(
    http: httpx.AsyncClient, history_reads: list[str]
) -> None:
    room = await group_room(http)
    await post(http, room, "hello", LEADER)
    history_reads.clear()
    pages = [await newest(http, room, headers=who) for who in (LEADER, MEMBER, LEADER)]
    assert pages == [["hello"]] * 3
    assert len(history_reads) == 1
    by_conversation = await http.get(f"/messages/conversation/{room['id']}", headers=MEMBER)
    assert [m["content"] for m in by_conversation.json()] == ["hello"]
    assert len(history_reads) == 1  # the same page, whichever route asks


async def test_the_page_shows_every_post_edit_and_delete_at_once(http: httpx.AsyncClient) -> None:
    room = await group_room(http)
    first = await post(http, room, "first", LEADER)
    assert await newest(http, room, headers=MEMBER) == ["first"]
    second = await post(http, room, "second", LEADER)
    assert await newest(http, room, headers=MEMBER) == ["first", "second"]
    await post(http, room, "first, edited", LEADER, id=first["id"])
    assert await newest(http, room, headers=MEMBER) == ["first, edited", "second"]
    deleted = await http.delete(f"/messages/{second['id']}", headers=LEADER)
    assert deleted.status_code == 200, deleted.text
    assert await newest(http, room, headers=MEMBER) == ["first, edited"]
    gone = await http.delete(f"/conversations/CH1/{room['id']}", headers=EDITOR)
    assert gone.status_code == 200, gone.text
    after = await http.get(f"/messages/catchup/CH1/{room['id']}", headers=MEMBER)
    assert after.status_code == 404


async def test_a_kept_page_is_still_refused_to_whoever_may_not_read_it(
    http: httpx.AsyncClient,
) -> None:
    room = await group_room(http)
    await post(http, room, "members only", LEADER)
    assert await newest(http, room, headers=MEMBER) == ["members only"]
    stranger = auth("CH1", "P7", group_ids=["G2"])
    for headers in (stranger, auth("CH2", "P2", group_ids=["G1"]), {}):
        refused = await http.get(f"/messages/catchup/CH1/{room['id']}", headers=headers)
        assert refused.status_code in (401, 403, 404), refused.text
        assert "members only" not in refused.text


async def test_metrics_show_the_pages_kept_and_the_reads_they_saved(
    node: Node, http: httpx.AsyncClient
) -> None:
    room = await group_room(http)
    await post(http, room, "one", LEADER)
    for _ in range(3):
        await newest(http, room, headers=MEMBER)
    await post(http, room, "two", LEADER)  # joins the kept page: no read
    assert await newest(http, room, headers=MEMBER) == ["one", "two"]
    seen = await metrics(node, "steeple_newest_page")
    assert seen["steeple_newest_page_answers_total"] == 4
    assert seen["steeple_newest_page_reads_total"] == 1
    assert seen["steeple_newest_pages"] == 1
    assert seen["steeple_newest_pages_bytes"] > 0


ROUTES = ("/messages/catchup/CH1/{room}", "/messages/conversation/{room}")
OUTSIDERS = {
    "anonymous": {},
    "a member of another group": auth("CH1", "P7", group_ids=["G2"]),
    "a third person of the church": auth("CH1", "P3"),
    "the same person id in another church": auth("CH2", "P1", group_ids=["G1"]),
}


async def kept_private_thread(http: httpx.AsyncClient) -> str:
    thread = await open_thread(http, "P1", "P2")
    room = {"id": thread["conversationId"]}
    await post(http, room, "between the two of us", auth("CH1", "P1"))
    return str(room["id"])


async def kept_group_room(http: httpx.AsyncClient) -> str:
    room = await group_room(http)
    await post(http, room, "between the two of us", LEADER)
    return str(room["id"])


@pytest.mark.parametrize("kept", [kept_group_room, kept_private_thread], ids=["group", "private"])
async def test_a_page_its_readers_had_kept_is_refused_to_every_outsider_on_both_routes(
    http: httpx.AsyncClient, kept: Any
) -> None:
    """Alone and after the readers' calls: the readers fill the kept page first, through
    both routes; every outsider then asks through both."""
    room = await kept(http)
    readers = (
        auth("CH1", "P1", group_ids=["G1"], leader_group_ids=["G1"]),
        auth("CH1", "P2", group_ids=["G1"]),
    )
    for route in ROUTES:
        for reader in readers:
            shown = await http.get(route.format(room=room), headers=reader)
            assert shown.status_code == 200, shown.text
            assert "between the two of us" in shown.text
    for who, headers in OUTSIDERS.items():
        for route in ROUTES:
            refused = await http.get(route.format(room=room), headers=headers)
            assert refused.status_code in (401, 403, 404), (who, route, refused.text)
            assert "between the two of us" not in refused.text, (who, route)
