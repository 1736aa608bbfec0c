"""The conversation store: history, live frames, merges, deletes, immutable snapshots."""

from __future__ import annotations

import dataclasses

import pytest

from steeple.client import ConversationSnapshot
from tests.support.client_nodes import MakeClient, live_room
from tests.support.client_tools import Recorder, RequestLog, contents
from tests.support.nodes import token


async def test_anonymous_history_then_live_messages_then_deletes(clients: MakeClient) -> None:
    log = RequestLog()
    ann = await clients(name="Ann", http=log.client())
    room = await live_room(ann)
    older = await ann.rest.send_message("CH1", room, "before Ann came", "Bob")
    snapshot = await ann.conversations.open("CH1", room)
    assert contents(snapshot) == ["before Ann came"]
    # anonymous callers load through catchup (they may not use /messages/conversation)
    assert log.count("GET /messages/catchup/") == 1 and log.count("GET /messages/conv") == 0

    seen = Recorder[ConversationSnapshot]()
    ann.conversations.subscribe(room, seen)
    await ann.rest.send_message("CH1", room, "live", "Bob")
    live = await seen.until(lambda s: contents(s) == ["before Ann came", "live"])
    assert live.messages[1].display_name == "Bob" and live.messages[1].time_sent.endswith("Z")

    moderator = await clients(token=token("CH1", "M1", permissions=["Content__Edit"]))
    await moderator.rest.delete_message(older.id)
    await seen.until(lambda s: contents(s) == ["live"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        live.messages[0].content = "changed"  # type: ignore[misc]
    assert contents(live) == ["before Ann came", "live"]  # old snapshots never change


async def test_signed_in_history_and_edits_merge_by_id(clients: MakeClient) -> None:
    log = RequestLog()
    pat = await clients(token=token("CH1", "P1"), http=log.client())
    room = await live_room(pat)
    first = await pat.rest.send_message("CH1", room, "frist", "Pat")
    await pat.conversations.open("CH1", room)
    assert log.count("GET /messages/conversation/") == 1 and log.count("GET /messages/c") == 1
    assert contents(pat.conversations.snapshot(room)) == ["frist"]

    seen = Recorder[ConversationSnapshot]()
    pat.conversations.subscribe(room, seen)
    await pat.rest.request(
        "POST", "/messages", [{"id": first.id, "conversationId": room, "content": "first"}]
    )
    edited = await seen.until(lambda s: contents(s) == ["first"])
    assert edited.messages[0].id == first.id and edited.messages[0].time_updated


async def test_opening_twice_shares_one_membership(clients: MakeClient) -> None:
    ann = await clients(name="Ann")
    room = await live_room(ann)
    await ann.conversations.open("CH1", room)
    await ann.conversations.open("CH1", room)
    assert ann.subscriptions.references("CH1", room) == 2
    await ann.conversations.release("CH1", room)
    assert ann.conversations.snapshot(room) is not None
    await ann.conversations.release("CH1", room)
    assert ann.conversations.snapshot(room) is None
    assert ann.subscriptions.references("CH1", room) == 0


async def test_history_said_before_the_socket_exists_is_caught_up(clients: MakeClient) -> None:
    ann = await clients(name="Ann", connect=False)
    room = await live_room(ann)
    await ann.conversations.open("CH1", room)  # history now; the room is joined later
    seen = Recorder[ConversationSnapshot]()
    ann.conversations.subscribe(room, seen)
    await ann.rest.send_message("CH1", room, "said while Ann had no socket", "Bob")
    await ann.connect()
    await seen.until(lambda s: contents(s) == ["said while Ann had no socket"])
    await ann.rest.send_message("CH1", room, "live", "Bob")
    final = await seen.until(lambda s: "live" in contents(s))
    assert contents(final) == ["said while Ann had no socket", "live"]
