"""Denials end to end: 401 with ``{}`` or ``[]``, and nothing written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from steeple.node import Node
from tests.support import scenarios
from tests.support.nodes import auth


@pytest.mark.parametrize("caller", sorted(scenarios.DENIED_CALLERS))
async def test_denied_callers_get_401_and_nothing_is_written(
    caller: str, node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.denied_callers_get_401_and_nothing_is_written(caller, node, http, sockets)


async def test_one_denied_entry_fails_the_whole_join(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    await scenarios.one_denied_entry_fails_the_whole_join(node, http, sockets)


async def test_alerts_need_a_person_and_take_identity_from_the_token(
    node: Node, http: httpx.AsyncClient, sockets: Any
) -> None:
    socket = await sockets()
    body = [
        {
            "churchId": "CH2",
            "conversationId": "alerts",
            "socketId": socket.socket_id,
            "personId": "P7",
        }
    ]
    anonymous = await http.post("/connections", json=body)
    assert (anonymous.status_code, anonymous.json()) == (401, {})
    joined = await http.post("/connections", json=body, headers=auth("CH1", "P1"))
    assert joined.status_code == 200
    (row,) = joined.json()
    assert (row["churchId"], row["personId"]) == ("CH1", "P1")
    peek = await http.get("/connections/CH1/alerts", headers=auth("CH1", "P1"))
    assert (peek.status_code, peek.json()) == (401, [])
    assert len(await node.store.connections.in_room(("CH1", "alerts"))) == 1


async def test_anonymous_posts_only_to_public_live_rooms(http: httpx.AsyncClient) -> None:
    await scenarios.anonymous_posts_only_to_public_live_rooms(http)
