"""Slow mode in ``steeple.client`` and ``steeple chat``: frames, the re-read after a
reconnect, a 429 as :class:`TooManyRequestsError`, and the terminal's lines."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.client import Client, RoomSettings, TooManyRequestsError
from steeple.node import Node
from steeple.storage.store import Store
from tests.client.test_chat import Chat
from tests.support.client_nodes import MakeClient, Restartable, live_room
from tests.support.client_tools import FAST, Recorder
from tests.support.nodes import auth, token

HOST = auth("CH1", "H1", permissions=["Chat__Host"])


@pytest.fixture
async def chats() -> AsyncIterator[list[Chat]]:
    started: list[Chat] = []
    yield started
    for chat in started:
        chat.kill()
        await chat.process.wait()


async def set_slow_mode(node: Node, room: str, seconds: int) -> None:
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        response = await http.post(
            f"/conversations/CH1/{room}/settings", json={"slowModeSeconds": seconds}, headers=HOST
        )
        assert response.status_code == 200, response.text


async def test_the_store_follows_frames_and_a_429_says_how_long_to_wait(
    node: Node, clients: MakeClient
) -> None:
    viewer = await clients(name="Vic")
    room = await live_room(viewer)
    conversation = await viewer.rest.current_conversation("CH1", "streamingLive", "svc1")
    assert viewer.room_settings.note(conversation) == RoomSettings(room, 0)
    changes = Recorder[RoomSettings]()
    viewer.room_settings.subscribe(room, changes)
    await viewer.conversations.open("CH1", room)

    await set_slow_mode(node, room, 60)
    assert await changes.until(lambda s: True) == RoomSettings(room, 60)
    assert viewer.room_settings.snapshot(room).slow_mode_seconds == 60
    await viewer.rest.send_message("CH1", room, "first", "Vic")
    with pytest.raises(TooManyRequestsError) as refused:
        await viewer.rest.send_message("CH1", room, "second", "Vic")
    assert refused.value.status == 429 and refused.value.limit == "slowMode"
    assert refused.value.retry_after is not None and 0 < refused.value.retry_after <= 60
    assert "slow mode" in refused.value.problem

    host = await clients(token=token("CH1", "H1", permissions=["Chat__Host"]))
    assert await host.rest.set_slow_mode("CH1", room, 0) == RoomSettings(room, 0)
    assert await changes.until(lambda s: s.slow_mode_seconds == 0) == RoomSettings(room, 0)
    assert [s.slow_mode_seconds for s in changes.items] == [60, 0]
    await viewer.rest.send_message("CH1", room, "second", "Vic")


async def test_a_change_made_while_the_client_was_away_is_read_after_the_rejoin(
    restartable: Restartable,
) -> None:
    node = restartable.node
    assert node is not None
    async with Client(node.http_url, node.socket_url, backoff=FAST) as viewer:
        conversation = await viewer.rest.current_conversation("CH1", "streamingLive", "svc1")
        room = str(conversation["id"])
        viewer.room_settings.note(conversation)
        changes = Recorder[RoomSettings]()
        viewer.room_settings.subscribe(room, changes)
        await viewer.conversations.open("CH1", room)

        await restartable.stop()
        store = Store.open(restartable.settings.database_url)  # no node, so no frame
        await store.room_settings.put_slow_mode("CH1", room, 30, node.ctx.clock.now())
        await store.close()
        await restartable.start()

        assert await changes.until(lambda s: True, timeout=15) == RoomSettings(room, 30)


async def test_steeple_chat_shows_slow_mode_and_a_refused_line(
    node: Node, http: httpx.AsyncClient, chats: list[Chat]
) -> None:
    room = (await http.get("/conversations/current/CH1/streamingLive/svc1")).json()["id"]
    await set_slow_mode(node, room, 60)
    ann = await Chat.start(node, "Ann")
    chats.append(ann)
    await ann.until(lambda line: line == "* slow mode: one message every 60 s")
    await ann.until(lambda line: line.startswith("* 1 watching"))
    ann.type("first line")
    await ann.said("Ann", "first line")
    ann.type("second line")
    refused = await ann.until(lambda line: line.startswith("* not sent"))
    assert re.fullmatch(r"\* not sent: slow mode is on; wait (\d+) s before sending again", refused)

    await set_slow_mode(node, room, 10)
    await ann.until(lambda line: line == "* slow mode: one message every 10 s")
    await set_slow_mode(node, room, 0)
    await ann.until(lambda line: line == "* slow mode off")
    ann.type("third line")
    await ann.said("Ann", "third line")
    assert await ann.quit() == 0
    assert [content for _, content in ann.messages()] == ["first line", "third line"]
