"""The chat page follows history pages: after a reconnect with several pages missed,
every message shows once, in order (real Chromium, a node with HISTORY_LIMIT=5)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, expect

from steeple.node import Node
from tests.browser.chat import ChatTab
from tests.browser.test_chat_page import CHURCH, live_room, post_anonymously, stream_url
from tests.support.history import write_history
from tests.support.nodes import node_settings

LIMIT = 5


@pytest.fixture
async def node(sqlite_url: str) -> AsyncIterator[Node]:
    running = Node(node_settings(sqlite_url, history_limit=LIMIT))
    await running.start()
    yield running
    await running.stop()


async def test_more_than_a_page_missed_while_cut_shows_every_message_once(
    node: Node, browser: Browser, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    await write_history(node.store, room, [f"earlier {i}" for i in range(8)])
    ann = await ChatTab.open(browser, stream_url(node), "Ann")
    # the first load is the newest page only
    await expect(ann.texts()).to_have_text([f"earlier {i}" for i in range(3, 8)])
    await ann.say("before the cut")
    await ann.sees_once("before the cut")
    cut_socket = await ann.socket_id()

    await ann.context.set_offline(True)  # keeps the page from reconnecting until we say
    socket = node.hub.get(cut_socket)
    assert socket is not None
    socket.close(1012, "cut by the test")
    await expect(ann.page.locator("body")).to_have_attribute("data-status", "reconnecting")
    assert list(node.hub.members((CHURCH, room["id"]))) == []
    missed = [f"missed {i}" for i in range(17)]  # four pages, the last one short
    await write_history(node.store, room, missed)

    await ann.context.set_offline(False)
    await ann.until_live()
    await post_anonymously(http, room["id"], "after the reconnect")
    await ann.sees_once("after the reconnect")
    expected = [f"earlier {i}" for i in range(3, 8)] + ["before the cut", *missed]
    await expect(ann.texts()).to_have_text([*expected, "after the reconnect"])
    assert ann.errors == []


async def test_a_room_empty_before_the_cut_recovers_from_its_first_message(
    node: Node, browser: Browser, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    ann = await ChatTab.open(browser, stream_url(node), "Ann")
    cut_socket = await ann.socket_id()
    await ann.context.set_offline(True)
    socket = node.hub.get(cut_socket)
    assert socket is not None
    socket.close(1012, "cut by the test")
    await expect(ann.page.locator("body")).to_have_attribute("data-status", "reconnecting")
    missed = [f"missed {i}" for i in range(12)]
    await write_history(node.store, room, missed)

    await ann.context.set_offline(False)
    await ann.until_live()
    await expect(ann.texts()).to_have_text(missed)  # not just the newest page
    assert ann.errors == []
