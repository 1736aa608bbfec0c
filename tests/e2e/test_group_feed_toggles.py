"""Group feed toggles (PROTOCOL.md 5.3) over real HTTP, against a real membership database.

Each test creates its own ChurchApps membership database (MariaDB unless it says
otherwise) with a ``groups`` table, and points a node on port 0 at it with
``MEMBERSHIP_DATABASE_URL``. The node runs on a :class:`~tests.clocks.DrivenClock`, so
the switches' cache expires when the test says, not after a sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from steeple.errors import ConfigError
from steeple.node import Node
from steeple.settings import Settings
from tests.support.client_tools import free_port
from tests.support.clocks import DrivenClock
from tests.support.membership_db import MembershipDb, membership_db
from tests.support.nodes import auth, node_settings

CACHE_SECONDS = 30.0
GROUP = "G1"
MEMBER = auth("CH1", "P1", group_ids=[GROUP])
OTHER_MEMBER = auth("CH1", "P2", group_ids=[GROUP])
LEADER = auth("CH1", "L1", group_ids=[GROUP], leader_group_ids=[GROUP])
EDITOR = auth("CH1", "E1", permissions=["Content__Edit"])
LEADING_EDITOR = auth("CH1", "E2", leader_group_ids=[GROUP], permissions=["Content__Edit"])


@pytest.fixture
async def membership() -> AsyncIterator[MembershipDb]:
    async with membership_db("mariadb") as db:
        await db.add_group(GROUP)
        yield db


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


async def start_node(tmp_path: Path, clock: DrivenClock, membership_url: str) -> Node:
    settings = node_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}",
        membership_database_url=membership_url,
        membership_cache_seconds=CACHE_SECONDS,
    )
    node = Node(settings, clock=clock)
    await node.start()
    return node


@pytest.fixture
async def node(tmp_path: Path, clock: DrivenClock, membership: MembershipDb) -> AsyncIterator[Node]:
    running = await start_node(tmp_path, clock, membership.url)
    yield running
    await running.stop()


@pytest.fixture
async def http(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as client:
        yield client


async def create_room(
    http: httpx.AsyncClient, content_type: str, headers: dict[str, str], group: str = GROUP
) -> httpx.Response:
    body = [{"contentType": content_type, "contentId": group, "groupId": group, "title": "t"}]
    return await http.post("/conversations", json=body, headers=headers)


async def room(http: httpx.AsyncClient, content_type: str, group: str = GROUP) -> dict[str, Any]:
    """A feed created while its switch is on, by a leader of the group."""
    leader = auth("CH1", "L1", group_ids=[group], leader_group_ids=[group])
    response = await create_room(http, content_type, leader, group)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


async def post(
    http: httpx.AsyncClient, conversation: dict[str, Any], content: str, headers: dict[str, str]
) -> httpx.Response:
    body = [{"conversationId": conversation["id"], "content": content}]
    return await http.post("/messages", json=body, headers=headers)


async def stored(node: Node, conversation: dict[str, Any]) -> list[str]:
    return [m["content"] for m in await node.store.messages.newest(conversation["id"], 100)]


async def switch_off(
    membership: MembershipDb, clock: DrivenClock, switch: str, group: str = GROUP
) -> None:
    """Turn a switch off in ChurchApps and let the node's cached copy expire."""
    await membership.set(group, switch, False)
    clock.advance(CACHE_SECONDS + 1)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() in ({}, [])


# --- discussions ------------------------------------------------------------------------


async def test_members_post_to_a_discussion_only_while_it_is_enabled(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat = await room(http, "group")
    first = await post(http, chat, "hello", MEMBER)
    assert first.status_code == 200, first.text
    assert first.json()[0]["content"] == "hello"

    await switch_off(membership, clock, "discussionsEnabled")
    assert_refused(await post(http, chat, "after the switch", MEMBER))
    assert_refused(await post(http, chat, "a leader too", LEADER))
    sent = await http.post(
        "/messages/send",
        json=[{"churchId": "CH1", "conversationId": chat["id"], "content": "by send"}],
        headers=MEMBER,
    )
    assert_refused(sent)
    assert await stored(node, chat) == ["hello"]

    await membership.set(GROUP, "discussionsEnabled", True)
    clock.advance(CACHE_SECONDS + 1)
    again = await post(http, chat, "back on", MEMBER)
    assert again.status_code == 200, again.text
    assert await stored(node, chat) == ["hello", "back on"]


async def test_content_edit_posts_to_a_discussion_that_is_off(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat = await room(http, "group")
    await switch_off(membership, clock, "discussionsEnabled")
    response = await post(http, chat, "from the office", EDITOR)
    assert response.status_code == 200, response.text
    assert await stored(node, chat) == ["from the office"]


async def test_a_discussion_that_is_off_is_not_created_by_any_route(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    await switch_off(membership, clock, "discussionsEnabled")
    assert_refused(await create_room(http, "group", LEADER))
    start = {"contentType": "group", "contentId": GROUP, "title": "t", "comment": "hi"}
    assert_refused(await http.post("/conversations/start", json=start, headers=MEMBER))
    assert_refused(await http.get(f"/conversations/current/CH1/group/{GROUP}", headers=MEMBER))
    assert await node.store.conversations.for_content("CH1", "group", GROUP) == []

    created = await create_room(http, "group", EDITOR)
    assert created.status_code == 200, created.text
    assert created.json()[0]["contentType"] == "group"


async def test_edits_deletes_and_reactions_are_not_gated(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat = await room(http, "group")
    mine = (await post(http, chat, "first draft", MEMBER)).json()[0]
    theirs = (await post(http, chat, "to delete", OTHER_MEMBER)).json()[0]
    await switch_off(membership, clock, "discussionsEnabled")
    assert_refused(await post(http, chat, "a new one", MEMBER))

    edited = await http.post(
        "/messages", json=[{"id": mine["id"], "content": "second draft"}], headers=MEMBER
    )
    assert edited.status_code == 200, edited.text
    reacted = await http.post(
        f"/messages/{theirs['id']}/reactions", json={"emoji": "👍"}, headers=MEMBER
    )
    assert reacted.status_code == 200, reacted.text
    assert reacted.json() == {"messageId": theirs["id"], "emoji": "👍", "added": True}
    deleted = await http.delete(f"/messages/{theirs['id']}", headers=OTHER_MEMBER)
    assert deleted.status_code == 200, deleted.text
    assert await stored(node, chat) == ["second draft"]


# --- announcements ----------------------------------------------------------------------


async def test_leaders_announce_only_while_announcements_are_enabled(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    feed = await room(http, "groupAnnouncement")
    first = await post(http, feed, "meeting moved", LEADER)
    assert first.status_code == 200, first.text
    assert_refused(await post(http, feed, "members never announce", MEMBER))

    await switch_off(membership, clock, "announcementsEnabled")
    assert_refused(await post(http, feed, "after the switch", LEADER))
    assert_refused(await create_room(http, "groupAnnouncement", LEADER))
    leading_editor = await post(http, feed, "the editor leads", LEADING_EDITOR)
    assert leading_editor.status_code == 200, leading_editor.text
    assert await stored(node, feed) == ["meeting moved", "the editor leads"]


async def test_each_switch_gates_its_own_feed(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat, feed = await room(http, "group"), await room(http, "groupAnnouncement")
    await switch_off(membership, clock, "announcementsEnabled")
    discussion = await post(http, chat, "still talking", MEMBER)
    assert discussion.status_code == 200, discussion.text
    assert_refused(await post(http, feed, "no announcements", LEADER))

    await membership.set(GROUP, "announcementsEnabled", True)
    await switch_off(membership, clock, "discussionsEnabled")
    announcement = await post(http, feed, "announcing again", LEADER)
    assert announcement.status_code == 200, announcement.text
    assert_refused(await post(http, chat, "talk is off", MEMBER))


# --- the membership database itself ------------------------------------------------------


async def test_a_group_the_membership_database_does_not_hold_is_refused(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb
) -> None:
    stranger_group = auth("CH1", "P1", group_ids=["G9"], leader_group_ids=["G9"])
    editor = auth("CH1", "E1", group_ids=["G9"], permissions=["Content__Edit"])
    assert_refused(await create_room(http, "group", stranger_group, group="G9"))
    assert_refused(await create_room(http, "group", editor, group="G9"))
    assert await node.store.conversations.for_content("CH1", "group", "G9") == []


async def test_another_churchs_group_of_the_same_id_is_not_this_churchs(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb
) -> None:
    await membership.add_group("G2", church_id="CH2")
    leader_in_ch1 = auth("CH1", "L1", group_ids=["G2"], leader_group_ids=["G2"])
    assert_refused(await create_room(http, "group", leader_in_ch1, group="G2"))
    leader_in_ch2 = auth("CH2", "L2", group_ids=["G2"], leader_group_ids=["G2"])
    created = await create_room(http, "group", leader_in_ch2, group="G2")
    assert created.status_code == 200, created.text


async def test_a_null_switch_counts_as_on(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat = await room(http, "group")
    await membership.set(GROUP, "discussionsEnabled", None)
    clock.advance(CACHE_SECONDS + 1)
    response = await post(http, chat, "null is on", MEMBER)
    assert response.status_code == 200, response.text


async def test_switches_are_cached_until_the_ttl_passes(
    node: Node, http: httpx.AsyncClient, membership: MembershipDb, clock: DrivenClock
) -> None:
    chat = await room(http, "group")
    assert (await post(http, chat, "looked up", MEMBER)).status_code == 200

    await membership.set(GROUP, "discussionsEnabled", False)
    clock.advance(CACHE_SECONDS - 1)
    cached = await post(http, chat, "still cached", MEMBER)
    assert cached.status_code == 200, cached.text

    clock.advance(2)
    assert_refused(await post(http, chat, "expired", MEMBER))
    assert await stored(node, chat) == ["looked up", "still cached"]


async def test_an_unreachable_membership_database_is_a_503_not_a_post(
    tmp_path: Path, clock: DrivenClock
) -> None:
    """Nothing listens on the port: every lookup fails, so posting waits, and the rest
    of the server (a live stream, a group's existing history) keeps working."""
    node = await start_node(tmp_path, clock, f"mysql://root@127.0.0.1:{free_port()}/membership")
    try:
        async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
            response = await create_room(http, "group", LEADER)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert response.json() == {
                "error": "the membership database is unreachable",
                "retryAfter": 5,
            }
            assert await node.store.conversations.for_content("CH1", "group", GROUP) == []
            live = await http.get("/conversations/current/CH1/streamingLive/svc1")
            assert live.status_code == 200, live.text
            note = await http.post(
                "/messages/send",
                json=[{"churchId": "CH1", "conversationId": live.json()["id"], "content": "hi"}],
            )
            assert note.status_code == 200, note.text
    finally:
        await node.stop()


# --- without a membership database, and other databases ---------------------------------


async def test_without_a_membership_database_both_switches_are_on(
    tmp_path: Path, clock: DrivenClock
) -> None:
    node = await start_node(tmp_path, clock, "")
    try:
        async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
            chat, feed = (
                await room(http, "group", "G7"),
                await room(http, "groupAnnouncement", "G7"),
            )
            talk = await post(http, chat, "talk", auth("CH1", "P1", group_ids=["G7"]))
            assert talk.status_code == 200, talk.text
            leader = auth("CH1", "L1", leader_group_ids=["G7"])
            announce = await post(http, feed, "announce", leader)
            assert announce.status_code == 200, announce.text
    finally:
        await node.stop()


@pytest.mark.parametrize(
    ("kind", "column"),
    [("postgres", "boolean"), ("postgres", "bit(1)"), ("mariadb", "tinyint(1)")],
)
async def test_switches_of_other_databases_and_column_types(
    tmp_path: Path, clock: DrivenClock, kind: str, column: str
) -> None:
    async with membership_db(kind, column) as membership:
        await membership.add_group(GROUP)
        node = await start_node(tmp_path, clock, membership.url)
        try:
            async with httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10) as http:
                chat, feed = await room(http, "group"), await room(http, "groupAnnouncement")
                assert (await post(http, chat, "on by default", MEMBER)).status_code == 200
                await membership.set(GROUP, "discussionsEnabled", False)
                await switch_off(membership, clock, "announcementsEnabled")
                assert_refused(await post(http, chat, "off", MEMBER))
                assert_refused(await post(http, feed, "off", LEADER))
                await membership.set(GROUP, "discussionsEnabled", None)
                await membership.set(GROUP, "announcementsEnabled", True)
                clock.advance(CACHE_SECONDS + 1)
                assert (await post(http, chat, "null is on", MEMBER)).status_code == 200
                assert (await post(http, feed, "on again", LEADER)).status_code == 200
                assert await stored(node, chat) == ["on by default", "null is on"]
        finally:
            await node.stop()


def test_the_settings_come_from_the_environment_and_bad_ones_are_refused_by_name(
    tmp_path: Path,
) -> None:
    env = {"JWT_SECRET": "s" * 32, "ENCRYPTION_KEY": "k" * 32}
    plain = Settings.from_env(env)
    assert plain.membership_database_url == "" and plain.membership_cache_seconds == 30.0
    url = "mysql://reader:hunter2@db.example/membership"
    chosen = Settings.from_env(
        env | {"MEMBERSHIP_DATABASE_URL": url, "MEMBERSHIP_CACHE_SECONDS": "5"}
    )
    assert chosen.membership_database_url == url and chosen.membership_cache_seconds == 5.0
    assert "hunter2" not in repr(chosen)
    with pytest.raises(ConfigError, match="MEMBERSHIP_CACHE_SECONDS"):
        Settings.from_env(env | {"MEMBERSHIP_CACHE_SECONDS": "-1"})
    database = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    for bad in ("not a url", f"sqlite:///{tmp_path / 'm.db'}", "oracle://db/membership"):
        with pytest.raises(ConfigError, match="MEMBERSHIP_DATABASE_URL"):
            Node(node_settings(database, membership_database_url=bad))
