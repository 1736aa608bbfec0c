"""The chat page starts when its module script says so, not when app.js is imported.

A bare page on the node's origin imports the controller module: nothing may happen (no
request for the room, no socket, no status), and its exports are there to be called.
"""

from __future__ import annotations

from playwright.async_api import Browser, Route

from steeple.node import Node

BARE_PAGE = "<!doctype html><html><head><title>bare</title></head><body></body></html>"


async def test_importing_the_controller_starts_nothing(browser: Browser, node: Node) -> None:
    page = await browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    probe = node.http_url + "/bare-page"

    async def bare(route: Route) -> None:
        await route.fulfill(content_type="text/html", body=BARE_PAGE)

    await page.route(probe, bare)
    await page.goto(probe)
    exported = await page.evaluate('import("/static/app.js").then((m) => Object.keys(m).sort())')
    assert exported == ["ChatPage", "parseRoute", "startChatPage"]
    assert await page.evaluate("document.body.dataset.status ?? null") is None
    assert await page.evaluate("document.title") == "bare"
    assert [url for url in requested if "/static/" not in url] == [probe]
    await page.close()
