"""The published NotificationService for a signed-in person: counts from
``/notifications/unreadCount`` and from frames of the person's ``alerts`` room."""

from __future__ import annotations

import httpx

from steeple.node import Node
from tests.apphelper.driver import AppHelperClient, Event, StartClient
from tests.support.alert_steps import counts, open_thread
from tests.support.nodes import auth, token
from tests.support.steps import group_room, post

ADMIN = auth("CH1", "ADM", permissions=["Messaging__Admin"])


def member(person: str) -> dict[str, str]:
    return auth("CH1", person, group_ids=["G1"])


def shows(notifications: int, private: int) -> object:
    wanted = {"notificationCount": notifications, "pmCount": private}
    return lambda e: e["counts"] == wanted


async def private_message(http: httpx.AsyncClient, sender: str, text: str) -> None:
    thread = await open_thread(http, sender, "P1")
    await post(http, {"id": thread["conversationId"]}, text, auth("CH1", sender))


async def create_notification(http: httpx.AsyncClient, person: str, event: str) -> None:
    body = {"peopleIds": [person], "contentType": "event", "contentId": event, "message": "Hi"}
    response = await http.post("/notifications/create", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text


async def signed_in_pat(node: Node, start_client: StartClient) -> AppHelperClient:
    """Pat (P1) signed in, NotificationService initialised as the apps' wrappers do."""
    client = await start_client(node)
    await client.do(
        "signIn", jwt=token("CH1", "P1", group_ids=["G1"]), churchId="CH1", personId="P1"
    )
    assert (await client.next("signedIn"))["authenticated"] is True
    await client.do("startNotifications")
    await client.next("notificationsReady")
    return client


async def test_counts_load_from_unread_count_at_start(
    node: Node, start_client: StartClient, http: httpx.AsyncClient
) -> None:
    room = await group_room(http)
    await post(http, room, "who is bringing chairs?", member("P1"))
    await post(http, room, "I can", member("P2"))  # Pat posted before: Pat is notified
    await private_message(http, "P2", "psst")
    client = await signed_in_pat(node, start_client)
    await client.next("counts", shows(1, 1))
    await client.do("refresh")
    refreshed: Event = await client.next("refreshed")
    assert refreshed["counts"] == await counts(http, "P1") == {"notificationCount": 1, "pmCount": 1}


async def test_socket_helpers_own_alerts_join_is_anonymous_and_refused(
    node: Node, start_client: StartClient
) -> None:
    """0.7.1's SocketHelper posts the alerts join with ``postAnonymous``; the alerts room
    needs the person's token (PROTOCOL 4), so the node answers 401 and the page logs it."""
    client = await signed_in_pat(node, start_client)
    refusal = await client.next("apiError", lambda e: e["url"].endswith("/connections"))
    assert refusal["status"] == "401"
    assert (await client.next("unhandledRejection"))["message"] == "{}"


async def test_frames_of_the_alerts_room_update_the_counts(
    node: Node, start_client: StartClient, http: httpx.AsyncClient
) -> None:
    client = await signed_in_pat(node, start_client)
    await client.next("counts", shows(0, 0))
    await client.do("joinAlertsSignedIn")
    [row] = (await client.next("alertsJoined"))["connections"]
    assert (row["churchId"], row["personId"], row["conversationId"]) == ("CH1", "P1", "alerts")

    await private_message(http, "P3", "are you coming tonight?")
    frame = await client.next("privateMessage")
    assert frame["data"]["counts"] == {"notificationCount": 0, "pmCount": 1}
    await client.next("counts", shows(0, 1))

    await create_notification(http, "P2", "E1")  # someone else's: not Pat's frame
    await create_notification(http, "P1", "E2")
    notified = await client.next("notification")
    assert notified["data"] == {"counts": {"notificationCount": 1, "pmCount": 1}}
    await client.next("counts", shows(1, 1))

    read = await http.get("/notifications/my", headers=auth("CH1", "P1"))  # another tab reads
    assert [n["contentId"] for n in read.json()] == ["E2"]
    await client.next("counts", shows(0, 1))
