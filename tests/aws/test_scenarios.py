"""The local end-to-end scenarios, run unchanged through API Gateway and the aws delivery.

The ``node``, ``http`` and ``sockets`` fixtures of ``tests/aws/conftest.py`` stand in
for a running node: REST calls become REST API events for the HTTP function, sockets
are API Gateway connections, and frames are what ``PostToConnection`` delivered. The
scenarios live in ``tests/support/scenarios.py``; ``tests/e2e`` runs the same ones
against a node.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from steeple.node import Node
from tests.support import scenarios


async def test_attendance_follows_join_rename_leave_and_close(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.attendance_follows_join_rename_leave_and_close(http, sockets)


async def test_legacy_anonymous_names_are_numbered(http: httpx.AsyncClient, sockets: Any) -> None:
    await scenarios.legacy_anonymous_names_are_numbered(http, sockets)


@pytest.mark.parametrize("caller", sorted(scenarios.DENIED_CALLERS))
async def test_denied_callers_get_401_and_nothing_is_written(
    caller: str, node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.denied_callers_get_401_and_nothing_is_written(caller, node, http, sockets)


async def test_one_denied_entry_fails_the_whole_join(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.one_denied_entry_fails_the_whole_join(node, http, sockets)


async def test_anonymous_posts_only_to_public_live_rooms(http: httpx.AsyncClient) -> None:
    await scenarios.anonymous_posts_only_to_public_live_rooms(http)


async def test_two_viewers_see_each_others_message_exactly_once(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.two_viewers_see_each_others_message_exactly_once(http, sockets)


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
