"""Two sockets in a public live room, end to end through real sockets."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import scenarios


async def test_two_viewers_see_each_others_message_exactly_once(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.two_viewers_see_each_others_message_exactly_once(http, sockets)
