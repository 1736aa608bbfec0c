"""The client follows history pages (PROTOCOL 5.6): a conversation opens on its newest
page, and recovery after a reconnect stays exactly-once however many pages were missed.

The node runs with HISTORY_LIMIT=5. The missed messages are written straight to the
database while the node is down (as another node would): only a catch-up can bring them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from steeple.client import RECONNECT, Client, ConversationSnapshot, Frame
from steeple.node import Node
from steeple.storage.store import Store
from tests.support.client_nodes import MakeClient, Restartable, live_room
from tests.support.client_tools import FAST, Recorder, RequestLog, contents, free_port
from tests.support.history import write_history
from tests.support.nodes import node_settings, token

LIMIT = 5
MISSED = [f"missed {i}" for i in range(17)]  # four pages, the last one short


@pytest.fixture
async def node(sqlite_url: str) -> AsyncIterator[Node]:
    running = Node(node_settings(sqlite_url, history_limit=LIMIT))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"
    settings = node_settings(db, port=free_port(), socket_port=free_port(), history_limit=LIMIT)
    server = Restartable(settings)
    await server.start()
    yield server
    await server.stop()


def first_seen(snapshots: list[ConversationSnapshot]) -> list[str]:
    """Each message's content, in the order it first appeared to the subscriber."""
    ids: set[str] = set()
    order = []
    for snapshot in snapshots:
        assert len({m.id for m in snapshot.messages}) == len(snapshot.messages)
        for message in snapshot.messages:
            if message.id not in ids:
                ids.add(message.id)
                order.append(message.content)
    return order


async def test_a_conversation_opens_on_its_newest_page(clients: MakeClient, node: Node) -> None:
    log = RequestLog()
    ann = await clients(name="Ann", http=log.client())
    room = await live_room(ann)
    await write_history(node.store, {"churchId": "CH1", "id": room}, [f"m{i}" for i in range(12)])
    snapshot = await ann.conversations.open("CH1", room)
    assert contents(snapshot) == ["m7", "m8", "m9", "m10", "m11"]
    assert log.count("GET /messages/catchup/") == 1  # no walk: later messages come as frames


async def miss_while_down(restartable: Restartable, room: str) -> None:
    """Stop the node, let the database take MISSED, start the node again."""
    await restartable.stop()
    store = Store.open(restartable.settings.database_url)
    try:
        await write_history(store, {"churchId": "CH1", "id": room}, MISSED)
    finally:
        await store.close()
    await restartable.start()


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
async def test_more_than_a_page_missed_across_a_restart_is_recovered_exactly_once(
    restartable: Restartable, signed_in: bool
) -> None:
    node = restartable.node
    assert node is not None
    log = RequestLog()
    async with (
        log.client() as pool,
        Client(
            node.http_url,
            node.socket_url,
            token=token("CH1", "P1") if signed_in else None,
            display_name="Pat",
            backoff=FAST,
            http=pool,
        ) as pat,
    ):
        room = str((await pat.rest.current_conversation("CH1", "streamingLive", "svc1"))["id"])
        seen, reconnects = Recorder[ConversationSnapshot](), Recorder[Frame]()
        seen(await pat.conversations.open("CH1", room))
        pat.conversations.subscribe(room, seen)
        pat.socket.add_handler(RECONNECT, "test", reconnects)
        await pat.rest.send_message("CH1", room, "before", "Pat")
        await seen.until(lambda s: contents(s) == ["before"])
        walks_before = log.count("GET /messages/catchup/")

        await miss_while_down(restartable, room)

        await reconnects.until(lambda f: True)
        await seen.until(lambda s: MISSED[-1] in contents(s))
        await pat.rest.send_message("CH1", room, "after", "Pat")
        final = await seen.until(lambda s: "after" in contents(s))
        expected = ["before", *MISSED, "after"]
        assert contents(final) == expected
        assert first_seen(seen.items) == expected
        # 5 + 5 + 5 + 2, then an empty page: the pages were followed, not one big answer
        assert log.count("GET /messages/catchup/") - walks_before >= 4


async def test_the_store_keeps_the_newest_messages_yet_shows_every_one_once(
    restartable: Restartable,
) -> None:
    node = restartable.node
    assert node is not None
    async with Client(
        node.http_url, node.socket_url, display_name="Pat", backoff=FAST, retained_messages=6
    ) as pat:
        room = str((await pat.rest.current_conversation("CH1", "streamingLive", "svc1"))["id"])
        seen = Recorder[ConversationSnapshot]()
        seen(await pat.conversations.open("CH1", room))
        pat.conversations.subscribe(room, seen)
        await pat.rest.send_message("CH1", room, "before", "Pat")
        await seen.until(lambda s: contents(s) == ["before"])

        await miss_while_down(restartable, room)

        final = await seen.until(lambda s: MISSED[-1] in contents(s))
        assert contents(final) == MISSED[-6:]  # bounded: only the six newest are kept
        assert first_seen(seen.items) == ["before", *MISSED]
        assert all(len(s.messages) <= 6 for s in seen.items)


async def test_a_room_empty_before_the_restart_recovers_from_its_first_message(
    restartable: Restartable,
) -> None:
    node = restartable.node
    assert node is not None
    async with Client(node.http_url, node.socket_url, display_name="Pat", backoff=FAST) as pat:
        room = str((await pat.rest.current_conversation("CH1", "streamingLive", "svc1"))["id"])
        seen = Recorder[ConversationSnapshot]()
        seen(await pat.conversations.open("CH1", room))
        pat.conversations.subscribe(room, seen)

        await miss_while_down(restartable, room)

        final = await seen.until(lambda s: MISSED[-1] in contents(s))
        assert contents(final) == MISSED  # not just the newest page
        assert first_seen(seen.items) == MISSED
