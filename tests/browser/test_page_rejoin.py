"""The chat page gets back into its room when re-joining fails at first (real Chromium).

After a reconnect the page re-joins over HTTP. Here the first re-joins meet a refused
connection and a 503 (as a node restarting or a database outage answers), so the page
must keep trying with backoff on the same socket until it is in again: then messages
posted afterwards reach it.
"""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, Route, expect

from steeple.node import Node
from tests.browser.chat import ChatTab
from tests.browser.test_chat_page import CHURCH, live_room, post_anonymously, stream_url


class FailingJoins:
    """Answers the next re-join POSTs with a network error, then a 503; lets the rest by."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    async def handle(self, route: Route) -> None:
        if route.request.method != "POST" or len(self.failed) >= 2:
            await route.continue_()
        elif not self.failed:
            self.failed.append("refused")
            await route.abort("connectionrefused")
        else:
            self.failed.append("503")
            await route.fulfill(
                status=503,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body='{"error":"the database is unreachable","retryAfter":1}',
            )


async def test_a_failed_rejoin_is_retried_until_the_page_is_back_in(
    node: Node, browser: Browser, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    ann = await ChatTab.open(browser, stream_url(node), "Ann")
    cut_socket = await ann.socket_id()

    # The failures are in place before the cut: only the re-joins can meet them (the
    # page joined already). Its new socket and its "syncing" status are shown together,
    # so once the new id is shown, "live" means the re-join went through.
    failing = FailingJoins()
    await ann.context.route("**/messaging/connections", failing.handle)
    socket = node.hub.get(cut_socket)
    assert socket is not None
    socket.close(1012, "cut by the test")
    body = ann.page.locator("body")
    await expect(body).not_to_have_attribute("data-socket-id", cut_socket, timeout=15_000)
    await expect(body).to_have_attribute("data-status", "live", timeout=15_000)
    assert failing.failed == ["refused", "503"]
    members = list(node.hub.members((CHURCH, room["id"])))
    assert len(members) == 1 and members[0] != cut_socket
    await post_anonymously(http, room["id"], "after the failed re-joins")
    await ann.sees_once("after the failed re-joins")
    assert ann.errors == []
