"""A server restart: the client reconnects, rejoins its rooms, recovers missed messages once.

The node is stopped and started again on the same ports with the same database.
While it is down, a second node on that database takes messages and a private
message: what the client missed, which only a catch-up (not a live frame) can bring.
"""

from __future__ import annotations

import httpx

from steeple.client import RECONNECT, Client, ConversationSnapshot, Counts, Frame
from steeple.node import Node
from steeple.settings import Settings
from tests.support.client_nodes import Restartable
from tests.support.client_tools import FAST, Recorder, contents
from tests.support.nodes import auth, node_settings, token


async def post_elsewhere(settings: Settings, private: bool = True) -> None:
    """Another node on the same database takes two messages (and a private message)."""
    other = Node(node_settings(settings.database_url))
    await other.start()
    try:
        async with httpx.AsyncClient(base_url=other.http_url + "/messaging") as http:
            room = (await http.get("/conversations/current/CH1/streamingLive/svc1")).json()
            for text in ("missed one", "missed two"):
                await http.post(
                    "/messages/send",
                    json=[
                        {
                            "churchId": "CH1",
                            "conversationId": room["id"],
                            "content": text,
                            "displayName": "Bob",
                        }
                    ],
                )
            if not private:
                return
            sam = auth("CH1", "P2", first_name="Sam")
            thread = (
                await http.post("/privateMessages", json=[{"toPersonId": "P1"}], headers=sam)
            ).json()[0]
            await http.post(
                "/messages",
                headers=sam,
                json=[{"conversationId": thread["conversationId"], "content": "psst"}],
            )
    finally:
        await other.stop()


async def test_restart_rejoins_rooms_and_recovers_missed_messages_once(
    restartable: Restartable,
) -> None:
    node = restartable.node
    assert node is not None
    async with Client(
        node.http_url, node.socket_url, token=token("CH1", "P1"), display_name="Pat", backoff=FAST
    ) as pat:
        room = str((await pat.rest.current_conversation("CH1", "streamingLive", "svc1"))["id"])
        other = str((await pat.rest.current_conversation("CH1", "streamingLive", "svc2"))["id"])
        await pat.conversations.open("CH1", room)
        await pat.conversations.open("CH1", other)
        assert await pat.notifications.start() == Counts(0, 0)
        seen, reconnects = Recorder[ConversationSnapshot](), Recorder[Frame]()
        pat.conversations.subscribe(room, seen)
        pat.socket.add_handler(RECONNECT, "test", reconnects)
        await pat.rest.send_message("CH1", room, "before", "Pat")
        await seen.until(lambda s: contents(s) == ["before"])
        first_socket = pat.socket.socket_id

        await restartable.stop()
        await post_elsewhere(restartable.settings)
        await restartable.start()

        new_socket = (await reconnects.until(lambda f: True)).data
        assert new_socket != first_socket
        await seen.until(lambda s: "missed two" in contents(s))
        await pat.rest.send_message("CH1", room, "after", "Pat")
        final = await seen.until(lambda s: "after" in contents(s))
        assert contents(final) == ["before", "missed one", "missed two", "after"]
        assert all(len({m.id for m in s.messages}) == len(s.messages) for s in seen.items)
        assert len(reconnects.items) == 1

        for conversation in (room, other):  # every room re-posted once, for the new socket
            assert await pat.subscriptions.joined("CH1", conversation) == new_socket
            (row,) = await pat.rest.connections("CH1", conversation)
            # One row, the new socket's (the old one's went with it); listings keep
            # socketIds secret.
            assert "socketId" not in row and row["displayName"] == "Pat"
        counts = Recorder[Counts]()
        pat.notifications.subscribe(counts)
        counts(pat.notifications.counts)
        await counts.until(lambda c: c.pm_count == 1)  # alerts rejoined, counts refreshed
