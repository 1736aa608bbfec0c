"""The live-stream chat page in a real headless Chromium against a real node."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, expect

from steeple.node import Node
from tests.browser.chat import DESKTOP, PHONE, ChatTab, save_side_by_side
from tests.support.nodes import node_settings, token

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "two-page-chat.png"
README_SCREENSHOT = ROOT / "docs" / "screenshot-two-page-chat.png"
CHURCH, SERVICE = "CH1", "svc1"


def stream_url(node: Node) -> str:
    return f"{node.http_url}/stream/{CHURCH}/{SERVICE}"


async def post_anonymously(http: httpx.AsyncClient, conversation_id: str, text: str) -> None:
    body = [
        {
            "churchId": CHURCH,
            "conversationId": conversation_id,
            "content": text,
            "displayName": "Carol",
        }
    ]
    response = await http.post("/messages/send", json=body)
    assert response.status_code == 200, response.text


async def live_room(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get(f"/conversations/current/{CHURCH}/streamingLive/{SERVICE}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def screenshot_targets() -> list[Path]:
    """The README copy is written once (or on request), so test runs do not churn it."""
    targets = [ARTIFACT]
    if not README_SCREENSHOT.exists() or os.environ.get("STEEPLE_UPDATE_SCREENSHOT"):
        targets.append(README_SCREENSHOT)
    return targets


async def test_two_pages_chat_and_the_count_follows_them(node: Node, browser: Browser) -> None:
    ann = await ChatTab.open(browser, stream_url(node), "Ann", DESKTOP)
    bob = await ChatTab.open(browser, stream_url(node), "Bob", PHONE)
    await ann.watching(2)
    await bob.watching(2)

    lines = [
        (ann, "Good morning, everyone!"),
        (bob, "Morning Ann! The sound is great today."),
        (ann, "Page 42 for the opening hymn, if you are singing along."),
        (bob, "Got it, thanks."),
    ]
    for speaker, text in lines:
        await speaker.say(text)
        for tab in (ann, bob):
            await tab.sees_once(text)
    await expect(ann.page.locator("#viewer-list")).to_contain_text("Bob")
    await expect(ann.texts()).to_have_count(len(lines))
    await expect(bob.texts()).to_have_count(len(lines))
    await expect(ann.page.locator("#messages-public .msg.mine")).to_have_count(2)

    shots = [
        ("Ann, desktop", await ann.page.screenshot()),
        ("Bob, phone", await bob.page.screenshot()),
    ]
    await save_side_by_side(browser, shots, screenshot_targets())

    await bob.close()
    await ann.watching(1)
    await expect(ann.page.locator("#viewer-list .viewer")).to_have_count(1)
    assert ann.errors == []


async def test_a_message_sent_while_the_socket_was_cut_appears_once(
    node: Node, browser: Browser, http: httpx.AsyncClient
) -> None:
    room = await live_room(http)
    ann = await ChatTab.open(browser, stream_url(node), "Ann")
    await ann.say("before the cut")
    await ann.sees_once("before the cut")
    cut_socket = await ann.socket_id()

    await ann.context.set_offline(True)  # keeps the page from reconnecting until we say
    socket = node.hub.get(cut_socket)
    assert socket is not None
    socket.close(1012, "cut by the test")
    await expect(ann.page.locator("body")).to_have_attribute("data-status", "reconnecting")
    assert list(node.hub.members((CHURCH, room["id"]))) == []
    await post_anonymously(http, room["id"], "sent while you were away")

    await ann.context.set_offline(False)
    await ann.until_live()
    assert await ann.socket_id() != cut_socket
    await post_anonymously(http, room["id"], "after the reconnect")
    await ann.sees_once("after the reconnect")
    await ann.sees_once("sent while you were away")
    await expect(ann.texts()).to_have_count(3)
    await ann.watching(1)
    assert ann.errors == []


async def test_html_in_messages_and_names_renders_as_text(node: Node, browser: Browser) -> None:
    ann = await ChatTab.open(browser, stream_url(node), "Ann")
    mallory = await ChatTab.open(browser, stream_url(node), "<i>Mallory</i>")
    payload = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>bold</b>'
    await mallory.say(payload)
    await ann.sees_once(payload)
    await expect(ann.page.locator("#viewer-list")).to_contain_text("<i>Mallory</i>")
    assert await ann.evaluate("window.pwned") is None
    injected = ann.page.locator("#messages-public :is(script, img, b), #viewer-list i")
    await expect(injected).to_have_count(0)
    assert ann.errors == []


async def test_a_host_deletes_a_message_and_chats_in_the_host_room(
    node: Node, browser: Browser
) -> None:
    viewer = await ChatTab.open(browser, stream_url(node), "Ann")
    await viewer.say("please remove this")
    await viewer.say("this one stays")
    host_token = token(
        CHURCH,
        "HOST1",
        first_name="Hana",
        last_name="Host",
        permissions=["Chat__Host", "Content__Edit"],
    )
    host = await ChatTab.open(browser, f"{stream_url(node)}#token={host_token}")
    assert "token" not in host.page.url
    await expect(host.page.locator("#my-name")).to_have_text("Hana Host")
    await host.sees_once("please remove this")

    message = host.messages("please remove this").locator("xpath=ancestor::li[1]")
    await message.hover()
    await message.locator(".delete").click()
    await expect(viewer.messages("please remove this")).to_have_count(0)
    await expect(host.messages("please remove this")).to_have_count(0)
    await viewer.sees_once("this one stays")

    await host.page.click(".tab[data-room=host]")
    await host.say("hosts only")
    await host.sees_once("hosts only", room="host")
    await viewer.sees_once("this one stays")
    await expect(viewer.messages("hosts only")).to_have_count(0)
    await expect(viewer.page.locator("#tabs")).to_be_hidden()
    assert host.errors == [] and viewer.errors == []


async def test_a_host_blocks_a_viewer_who_then_cannot_post(node: Node, browser: Browser) -> None:
    viewer = await ChatTab.open(browser, stream_url(node), "Ann")
    host_token = token(
        CHURCH,
        "HOST1",
        first_name="Hana",
        last_name="Host",
        permissions=["Chat__Host", "Content__Edit"],
    )
    host = await ChatTab.open(browser, f"{stream_url(node)}#token={host_token}")
    row = host.page.locator("#viewer-list .viewer").filter(has_text="Ann")
    await row.get_by_role("button", name="Block").click()
    await expect(row.locator(".tag")).to_have_text("blocked")
    await expect(viewer.page.locator("#banner")).to_contain_text("paused")
    await expect(viewer.page.locator("#message-input")).to_be_disabled()

    await row.get_by_role("button", name="Unblock").click()
    await expect(viewer.page.locator("#message-input")).to_be_enabled()
    await viewer.say("back again")
    await host.sees_once("back again")
    assert host.errors == [] and viewer.errors == []


async def test_the_page_works_in_single_port_mode(sqlite_url: str, browser: Browser) -> None:
    node = Node(node_settings(sqlite_url, self_hosted=True))
    await node.start()
    try:
        ann = await ChatTab.open(browser, stream_url(node), "Ann")
        await ann.say("one port for everything")
        await ann.sees_once("one port for everything")
        await ann.watching(1)
    finally:
        await node.stop()


async def test_host_tools_degrade_on_a_server_without_them(node: Node, browser: Browser) -> None:
    viewer = await ChatTab.open(browser, stream_url(node), "Ann")
    host_token = token(CHURCH, "HOST1", permissions=["Chat__Host", "Content__Edit"])
    host = await ChatTab.open(
        browser,
        f"{stream_url(node)}#token={host_token}",
        missing=("**/content/streamingServices/**", "**/blockedIps"),
    )
    await expect(host.page.locator("#toast")).to_contain_text("not available")
    await expect(host.page.locator("#tabs")).to_be_hidden()
    row = host.page.locator("#viewer-list .viewer").filter(has_text="Ann")
    await row.get_by_role("button", name="Block").click()
    await expect(host.page.locator("#toast")).to_contain_text("Blocking is not available")
    await viewer.say("still here")
    await host.sees_once("still here")
    assert host.errors == [] and viewer.errors == []


async def test_reconnect_delays_are_capped_and_fully_jittered(node: Node, browser: Browser) -> None:
    tab = await ChatTab.open(browser, stream_url(node))
    delays = await tab.evaluate("""import("/static/socket.js").then(({ backoffDelay }) => ({
        top: [0, 1, 3, 10].map((attempt) => backoffDelay(attempt, () => 1)),
        bottom: backoffDelay(4, () => 0),
        spread: new Set(Array.from({ length: 20 }, () => backoffDelay(6))).size,
    }))""")
    assert delays["top"] == [1000, 2000, 8000, 30000]
    assert delays["bottom"] == 0
    assert delays["spread"] > 1
