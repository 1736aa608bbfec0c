"""One browser tab on the chat page, as a viewer would use it."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    ViewportSize,
    expect,
)

DESKTOP: ViewportSize = {"width": 900, "height": 600}
PHONE: ViewportSize = {"width": 390, "height": 600}


class ChatTab:
    """A page in its own browser context (its own storage, like another person)."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    @classmethod
    async def open(
        cls,
        browser: Browser,
        url: str,
        name: str | None = None,
        viewport: ViewportSize | None = None,
        missing: tuple[str, ...] = (),
    ) -> ChatTab:
        """``missing``: URL globs answered 404, as a server without those routes would."""
        context = await browser.new_context(viewport=viewport or DESKTOP, device_scale_factor=1)
        context.set_default_timeout(10_000)
        for pattern in missing:
            await context.route(pattern, _not_found)
        tab = cls(context, await context.new_page())
        await tab.page.goto(url)
        await tab.until_live()
        if name:
            await tab.set_name(name)
        return tab

    async def until_live(self) -> None:
        await expect(self.page.locator("body")).to_have_attribute("data-status", "live")

    async def set_name(self, name: str) -> None:
        await self.page.fill("#name-input", name)
        await self.page.click("#name-form button[type=submit]")
        await expect(self.page.locator("#my-name")).to_have_text(name)

    async def say(self, text: str) -> None:
        await self.page.fill("#message-input", text)
        await self.page.press("#message-input", "Enter")

    def messages(self, text: str, room: str = "public") -> Locator:
        """The rendered messages whose whole text is ``text``."""
        whole = re.compile(f"^{re.escape(text)}$")
        return self.page.locator(f"#messages-{room} .text").filter(has_text=whole)

    def texts(self, room: str = "public") -> Locator:
        return self.page.locator(f"#messages-{room} .text")

    async def sees_once(self, text: str, room: str = "public") -> None:
        await expect(self.messages(text, room)).to_have_count(1)

    async def watching(self, count: int) -> None:
        await expect(self.page.locator("#watching-count")).to_have_text(str(count))

    async def socket_id(self) -> str:
        return str(await self.page.get_attribute("body", "data-socket-id"))

    async def evaluate(self, script: str) -> Any:
        return await self.page.evaluate(script)

    async def close(self) -> None:
        await self.context.close()


async def _not_found(route: Route) -> None:
    await route.fulfill(status=404, json={"error": "no route (simulated older server)"})


async def save_side_by_side(
    browser: Browser, shots: list[tuple[str, bytes]], paths: list[Path]
) -> None:
    """Compose screenshots into one picture (a blank page with the images in it)."""
    figures = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{caption}</figcaption></figure>"
        for caption, png in shots
    )
    html = f"""<!doctype html><style>
      body {{ margin: 0; }}
      #board {{ display: inline-flex; gap: 28px; align-items: flex-start; padding: 28px;
               background: linear-gradient(135deg, #dfe3f3, #eceaf8);
               font: 14px system-ui, sans-serif; color: #3b4256; }}
      figure {{ margin: 0; text-align: center; }}
      img {{ display: block; border-radius: 14px; box-shadow: 0 12px 36px rgba(30,35,70,.18); }}
      figcaption {{ margin-top: 10px; }}
    </style><div id="board">{figures}</div>"""
    page = await browser.new_page(viewport={"width": 1600, "height": 800}, device_scale_factor=1)
    await page.set_content(html)
    picture = await page.locator("#board").screenshot()
    await page.close()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(picture)
