"""The REST client turns every failure into one exception hierarchy."""

from __future__ import annotations

import pytest

from steeple.client import (
    ApiError,
    BadRequestError,
    ClientError,
    ConnectFailed,
    NotFoundError,
    RestClient,
    TransportError,
    UnauthorizedError,
)
from steeple.node import Node
from tests.support.client_tools import free_port
from tests.support.nodes import token


async def test_statuses_become_typed_errors(node: Node) -> None:
    async with RestClient(node.http_url) as rest:
        with pytest.raises(BadRequestError) as bad:
            await rest.current_conversation("CH1", "streamingLive", "x" * 40)
        assert bad.value.status == 400 and "contentId" in bad.value.problem
        with pytest.raises(UnauthorizedError) as denied:  # anonymous may not use this route
            await rest.conversation_messages("abcdefghijk")
        assert denied.value.status == 401 and denied.value.body == []
        with pytest.raises(NotFoundError):
            await rest.request("GET", "/no/such/route")
        assert issubclass(NotFoundError, ApiError) and issubclass(ApiError, ClientError)


async def test_a_token_makes_the_caller_signed_in(node: Node) -> None:
    async with RestClient(node.http_url + "/messaging/", token("CH1", "P1")) as rest:
        assert rest.signed_in and rest.base_url == node.http_url + "/messaging"
        room = await rest.current_conversation("CH1", "streamingLive", "svc1")
        saved = await rest.send_message("CH1", room["id"], "hi", "Pat")
        assert saved.person_id == "P1"
        assert [m.id for m in await rest.conversation_messages(room["id"])] == [saved.id]


async def test_an_unreachable_server_is_a_connect_failure() -> None:
    async with RestClient(f"http://127.0.0.1:{free_port()}") as rest:
        with pytest.raises(ConnectFailed) as failed:
            await rest.catchup("CH1", "abcdefghijk")
    assert isinstance(failed.value, TransportError)
