"""Slow mode on the chat page, in a real Chromium against a real node.

The node runs on a driven clock and the viewer's page on Playwright's clock, so "ten
seconds later" is a call on each side rather than a wait.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from steeple.node import Node
from tests.browser.chat import DESKTOP, ChatTab
from tests.support.clocks import DrivenClock
from tests.support.nodes import auth, node_settings, token

CHURCH, SERVICE = "CH1", "svc1"
HOST_PERMISSIONS = ["Chat__Host"]


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def node(tmp_path: Path, clock: DrivenClock) -> AsyncIterator[Node]:
    running = Node(node_settings(f"sqlite+aiosqlite:///{tmp_path / 'steeple.db'}"), clock=clock)
    await running.start()
    yield running
    await running.stop()


def stream_url(node: Node) -> str:
    return f"{node.http_url}/stream/{CHURCH}/{SERVICE}"


async def live_room(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get(f"/conversations/current/{CHURCH}/streamingLive/{SERVICE}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def set_slow_mode(http: httpx.AsyncClient, room: dict[str, Any], seconds: int) -> None:
    response = await http.post(
        f"/conversations/{CHURCH}/{room['id']}/settings",
        json={"slowModeSeconds": seconds},
        headers=auth(CHURCH, "H1", permissions=HOST_PERMISSIONS),
    )
    assert response.status_code == 200, response.text


async def open_on_a_driven_clock(browser: Browser, url: str, name: str) -> ChatTab:
    """A viewer's tab whose timers and ``Date.now`` move only when the test says."""
    context = await browser.new_context(viewport=DESKTOP, device_scale_factor=1)
    context.set_default_timeout(10_000)
    tab = ChatTab(context, await context.new_page())
    await tab.page.clock.install()
    await tab.page.goto(url)
    await tab.until_live()
    await tab.set_name(name)
    return tab


async def test_a_viewer_sees_slow_mode_and_the_send_button_counts_down(
    node: Node, browser: Browser, http: httpx.AsyncClient, clock: DrivenClock
) -> None:
    room = await live_room(http)
    await set_slow_mode(http, room, 10)
    ann = await open_on_a_driven_clock(browser, stream_url(node), "Ann")
    page = ann.page
    send, countdown = page.locator("#send"), page.locator("#send-countdown")
    await expect(page.locator("#slow-mode")).to_have_text("Slow mode: one message every 10 s")
    await expect(page.locator("#slow-mode-control")).to_be_hidden()  # viewers cannot switch it
    await expect(send).to_be_enabled()

    await page.clock.pause_at(await page.evaluate("Date.now()"))  # the countdown stands still
    await ann.say("first")
    await ann.sees_once("first")
    await expect(countdown).to_have_text("10")
    await expect(send).to_be_disabled()
    await expect(send).to_have_attribute("aria-label", "Send (wait 10 s)")

    await ann.say("too soon")  # Enter while the button waits sends nothing
    await expect(page.locator("#message-input")).to_have_value("too soon")
    await page.clock.run_for(4_000)
    await expect(countdown).to_have_text("6")

    await page.clock.run_for(6_000)
    clock.advance(10)
    await expect(countdown).to_be_hidden()
    await expect(send).to_be_enabled()
    await page.press("#message-input", "Enter")
    await ann.sees_once("too soon")
    await expect(countdown).to_have_text("10")
    await expect(ann.texts()).to_have_count(2)
    assert ann.errors == []


async def test_a_refused_post_keeps_the_text_and_counts_down_what_the_server_said(
    node: Node, browser: Browser, http: httpx.AsyncClient
) -> None:
    """A second tab of the same viewer (same address) learns the wait from the 429."""
    room = await live_room(http)
    await set_slow_mode(http, room, 30)
    first = await ChatTab.open(browser, stream_url(node), "Ann")
    await first.say("from the first tab")
    await first.sees_once("from the first tab")
    second = await open_on_a_driven_clock(browser, stream_url(node), "Ann")
    await second.page.clock.pause_at(await second.page.evaluate("Date.now()"))
    await second.say("from the second tab")
    await expect(second.page.locator("#toast")).to_contain_text("slow mode")
    await expect(second.page.locator("#message-input")).to_have_value("from the second tab")
    await expect(second.page.locator("#send-countdown")).to_have_text(re.compile(r"^\d+$"))
    await expect(second.page.locator("#send")).to_be_disabled()
    await expect(second.messages("from the second tab")).to_have_count(0)
    assert first.errors == [] and second.errors == []


async def test_a_host_switches_slow_mode_from_the_page_and_viewers_follow(
    node: Node, browser: Browser
) -> None:
    viewer = await ChatTab.open(browser, stream_url(node), "Ann")
    notice = viewer.page.locator("#slow-mode")
    await expect(notice).to_be_hidden()
    host_token = token(
        CHURCH, "HOST1", first_name="Hana", last_name="Host", permissions=["Chat__Host"]
    )
    host = await ChatTab.open(browser, f"{stream_url(node)}#token={host_token}")
    switch = host.page.locator("#slow-mode-select")
    await expect(switch).to_be_visible()
    await expect(switch).to_have_value("0")
    assert await switch.locator("option").all_text_contents() == [
        "Off",
        "5 s",
        "10 s",
        "30 s",
        "60 s",
    ]

    await switch.select_option("30")
    await expect(notice).to_have_text("Slow mode: one message every 30 s")
    await expect(host.page.locator("#slow-mode")).to_have_text(
        "Slow mode: one message every 30 s (hosts are exempt)"
    )
    for text in ("host one", "host two"):  # hosts never wait
        await host.say(text)
        await host.sees_once(text)
    await expect(host.page.locator("#send-countdown")).to_be_hidden()

    await viewer.say("viewer one")
    await viewer.sees_once("viewer one")
    await expect(viewer.page.locator("#send")).to_be_disabled()
    await switch.select_option("0")
    await expect(notice).to_be_hidden()
    await expect(viewer.page.locator("#send")).to_be_enabled()  # off ends the countdown
    await viewer.say("viewer two")
    await host.sees_once("viewer two")

    bo = await ChatTab.open(browser, stream_url(node), "Bo")
    await switch.select_option("5")
    await expect(bo.page.locator("#slow-mode")).to_have_text("Slow mode: one message every 5 s")
    late = await ChatTab.open(browser, stream_url(node), "Cy")  # learns it from the room
    await expect(late.page.locator("#slow-mode")).to_have_text("Slow mode: one message every 5 s")
    assert viewer.errors == [] and host.errors == [] and late.errors == []
