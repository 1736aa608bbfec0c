"""Messages end to end: catchup order and cursor, activity rooms, delete, edit."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import scenarios


async def test_catchup_is_oldest_first_and_after_returns_the_rest(http: httpx.AsyncClient) -> None:
    await scenarios.catchup_is_oldest_first_and_after_returns_the_rest(http)


async def test_conversation_activity_reaches_content_room_subscribers(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.conversation_activity_reaches_content_room_subscribers(http, sockets)


async def test_author_deletes_and_others_are_refused(http: httpx.AsyncClient, sockets: Any) -> None:
    await scenarios.author_deletes_and_others_are_refused(http, sockets)


async def test_edit_sends_the_edited_message(http: httpx.AsyncClient, sockets: Any) -> None:
    await scenarios.edit_sends_the_edited_message(http, sockets)
