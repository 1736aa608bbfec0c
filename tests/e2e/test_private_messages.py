"""Private messages end to end: threads, unread flags, alerts frames, access."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.alert_steps import alerts_socket, counts, is_json_error, open_thread, settle
from tests.support.nodes import auth
from tests.support.steps import group_room, join, post

JSON = {"Content-Type": "application/json"}


async def test_round_trip_counts_go_up_for_the_recipient_only_and_down_after_reading(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    ann = await alerts_socket(http, await sockets(), "P1")
    bob = await alerts_socket(http, await sockets(), "P2")
    cid = await alerts_socket(http, await sockets(), "P3")
    thread = await open_thread(http, "P1", "P2")
    room = {"id": thread["conversationId"]}
    message = await post(http, room, "hi Bob", auth("CH1", "P1"))

    frame = await bob.next("privateMessage")
    assert frame["conversationId"] == thread["conversationId"]
    assert frame["data"]["counts"] == {"notificationCount": 0, "pmCount": 1}
    assert frame["data"]["conversationId"] == thread["conversationId"]
    assert frame["data"]["message"]["id"] == message["id"]
    for other in (ann, cid):
        await settle(other)
        assert other.pending("privateMessage") == other.pending("notification") == []
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 1}
    assert await counts(http, "P1") == {"notificationCount": 0, "pmCount": 0}

    response = await http.get(f"/privateMessages/{thread['id']}", headers=auth("CH1", "P2"))
    assert response.status_code == 200 and response.json()["notifyPersonId"] is None
    assert (await bob.next("notification"))["data"]["counts"]["pmCount"] == 0
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 0}


async def test_reply_flags_the_first_sender_and_existing_clears_it(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    ann = await alerts_socket(http, await sockets(), "P1")
    thread = await open_thread(http, "P1", "P2")
    await post(http, {"id": thread["conversationId"]}, "hello", auth("CH1", "P1"))
    await post(http, {"id": thread["conversationId"]}, "hi back", auth("CH1", "P2"))
    frame = await ann.next("privateMessage")
    assert frame["data"]["message"]["content"] == "hi back"
    assert await counts(http, "P1") == {"notificationCount": 0, "pmCount": 1}
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 0}

    response = await http.get("/privateMessages/existing/P2", headers=auth("CH1", "P1"))
    assert response.json()["id"] == thread["id"]
    assert response.json()["notifyPersonId"] is None
    assert await counts(http, "P1") == {"notificationCount": 0, "pmCount": 0}


async def test_one_thread_per_pair_in_either_direction(http: httpx.AsyncClient) -> None:
    thread = await open_thread(http, "P1", "P2")
    again = await http.post(
        "/privateMessages", json=[{"toPersonId": "P1"}], headers=auth("CH1", "P2")
    )
    assert again.status_code == 200 and again.json() == [thread]
    existing = await http.get("/privateMessages/existing/P1", headers=auth("CH1", "P2"))
    assert existing.json()["id"] == thread["id"]
    none = await http.get("/privateMessages/existing/P9", headers=auth("CH1", "P2"))
    assert none.status_code == 200 and none.json() == {}


async def test_inbox_newest_activity_first_with_last_message_and_is_a_pure_read(
    http: httpx.AsyncClient,
) -> None:
    older = await open_thread(http, "P2", "P1")
    newer = await open_thread(http, "P3", "P1")
    await post(http, {"id": newer["conversationId"]}, "first", auth("CH1", "P3"))
    await post(http, {"id": older["conversationId"]}, "latest", auth("CH1", "P2"))
    for _ in range(2):
        response = await http.get("/privateMessages", headers=auth("CH1", "P1"))
        inbox = response.json()
        assert [t["id"] for t in inbox] == [older["id"], newer["id"]]
        assert [m["content"] for m in inbox[0]["conversation"]["messages"]] == ["latest"]
        assert inbox[0]["conversation"]["id"] == older["conversationId"]
        assert all(t["notifyPersonId"] == "P1" for t in inbox)
    assert (await counts(http, "P1"))["pmCount"] == 2
    empty = await open_thread(http, "P4", "P5")
    listed = (await http.get("/privateMessages", headers=auth("CH1", "P5"))).json()
    assert listed[0]["id"] == empty["id"] and listed[0]["conversation"]["messages"] == []


async def test_a_third_person_is_denied_everything_in_the_thread(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    thread = await open_thread(http, "P1", "P2")
    room = {"churchId": "CH1", "id": thread["conversationId"]}
    message = await post(http, room, "secret", auth("CH1", "P1"))
    for outsider in (auth("CH1", "P3"), auth("CH1", "P3", permissions=["Content__Edit"])):
        assert (
            await http.get(f"/privateMessages/{thread['id']}", headers=outsider)
        ).status_code == 401
        assert (
            await http.delete(f"/privateMessages/{thread['id']}", headers=outsider)
        ).status_code == 401
        history = await http.get(f"/messages/conversation/{room['id']}", headers=outsider)
        assert history.status_code == 401 and history.json() == []
        catchup = await http.get(f"/messages/catchup/CH1/{room['id']}", headers=outsider)
        assert catchup.status_code == 401
        one = await http.get(f"/messages/CH1/{message['id']}", headers=outsider)
        assert one.status_code == 401
        sent = await http.post(
            "/messages",
            json=[{"conversationId": room["id"], "content": "let me in"}],
            headers=outsider,
        )
        assert sent.status_code == 401
        reacted = await http.post(
            f"/messages/{message['id']}/reactions", json={"emoji": "x"}, headers=outsider
        )
        assert reacted.status_code == 401
        joined = await http.post(
            "/connections",
            headers=outsider,
            json=[
                {
                    "churchId": "CH1",
                    "conversationId": room["id"],
                    "socketId": (await sockets()).socket_id,
                }
            ],
        )
        assert joined.status_code == 401
        claimed = await http.post(
            "/privateMessages",
            headers=outsider,
            json=[{"toPersonId": "P1", "conversationId": room["id"]}],
        )
        assert claimed.status_code == 401
    anonymous = await http.get(f"/messages/catchup/CH1/{room['id']}")
    assert anonymous.status_code == 401
    assert (
        await http.get(f"/messages/conversation/{room['id']}", headers=auth("CH1", "P2"))
    ).json()[0]["content"] == "secret"


async def test_the_server_opens_the_conversation_when_none_is_given(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    response = await http.post(
        "/privateMessages", json=[{"toPersonId": "P2"}], headers=auth("CH1", "P1")
    )
    thread = response.json()[0]
    assert thread["fromPersonId"] == "P1" and thread["toPersonId"] == "P2"
    bob = await sockets()
    await join(http, bob, ("CH1", thread["conversationId"]), "Bob", auth("CH1", "P2"))
    await post(http, {"id": thread["conversationId"]}, "ping", auth("CH1", "P1"))
    assert (await bob.next("message"))["data"]["content"] == "ping"


async def test_delete_removes_the_thread_and_its_messages_for_both(http: httpx.AsyncClient) -> None:
    thread = await open_thread(http, "P1", "P2")
    await post(http, {"id": thread["conversationId"]}, "bye", auth("CH1", "P1"))
    assert (await counts(http, "P2"))["pmCount"] == 1
    response = await http.delete(f"/privateMessages/{thread['id']}", headers=auth("CH1", "P2"))
    assert response.status_code == 200 and response.json() == {"success": True}
    for person in ("P1", "P2"):
        gone = await http.get(f"/privateMessages/{thread['id']}", headers=auth("CH1", person))
        assert is_json_error(gone, 404)
        assert (await http.get("/privateMessages", headers=auth("CH1", person))).json() == []
    assert (await counts(http, "P2"))["pmCount"] == 0
    history = await http.get(
        f"/messages/conversation/{thread['conversationId']}", headers=auth("CH1", "P1")
    )
    assert history.status_code in (401, 404)


async def test_bad_input_is_a_4xx_with_json(http: httpx.AsyncClient) -> None:
    me = auth("CH1", "P1")
    group = await group_room(http)
    cases = [
        (await http.post("/privateMessages", content=b"nope", headers=me | JSON), 400),
        (await http.post("/privateMessages", content=b"nope", headers=me), 415),
        (await http.post("/privateMessages", json={"toPersonId": "P2"}, headers=me), 400),
        (await http.post("/privateMessages", json=[{}], headers=me), 400),
        (await http.post("/privateMessages", json=[{"toPersonId": "P1"}], headers=me), 400),
        (await http.post("/privateMessages", json=[{"toPersonId": "P2.x"}], headers=me), 400),
        (await http.post("/privateMessages", json=[{"toPersonId": "P" * 12}], headers=me), 400),
        (await http.post("/privateMessages", json=[{"toPersonId": 7}], headers=me), 400),
        (
            await http.post(
                "/privateMessages",
                json=[{"toPersonId": "P2", "conversationId": "nosuchconv"}],
                headers=me,
            ),
            401,  # PROTOCOL.md r2: a missing conversation is a denial
        ),
        (
            await http.post(
                "/privateMessages",
                json=[{"toPersonId": "P2", "conversationId": group["id"]}],
                headers=me,
            ),
            401,
        ),
        (await http.post("/privateMessages", json=[{"toPersonId": "P2"}]), 401),
        (await http.get("/privateMessages/existing/bad.id", headers=me), 400),
        (await http.get("/privateMessages/existing/P2"), 401),
        (await http.get("/privateMessages/nosuchthrd", headers=me), 404),
        (await http.get("/privateMessages/" + "x" * 12, headers=me), 400),
        (await http.delete("/privateMessages/nosuchthrd", headers=me), 404),
        (await http.delete("/privateMessages/a%20b", headers=me), 400),
        (await http.get("/privateMessages/nosuchthrd"), 401),
    ]
    for response, status in cases:
        assert is_json_error(response, status), (response.request.url, response.text)
    inbox = await http.get("/privateMessages")
    assert inbox.status_code == 401 and inbox.json() == []
    # Nothing was half-written: the batch with a bad second entry created no thread.
    batch = [{"toPersonId": "P2"}, {"toPersonId": "P3", "conversationId": group["id"]}]
    assert (await http.post("/privateMessages", json=batch, headers=me)).status_code == 401
    assert (await http.get("/privateMessages", headers=me)).json() == []


async def test_an_unclaimed_conversation_is_readable_by_nobody(http: httpx.AsyncClient) -> None:
    body = [{"contentType": "privateMessage", "contentId": "P1", "title": "PM"}]
    created = await http.post("/conversations", json=body, headers=auth("CH1", "P1"))
    conversation_id = created.json()[0]["id"]
    personless = auth("CH1", "")
    assert (await http.post("/conversations", json=body, headers=personless)).status_code == 401
    for headers in (auth("CH1", "P1"), personless, auth("CH1", "P2")):
        response = await http.get(f"/conversations/CH1/{conversation_id}", headers=headers)
        assert response.status_code == 401
