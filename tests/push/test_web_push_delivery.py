"""PROTOCOL.md 7.1 through a real node and a real (fake) Web Push service over TLS.

Each push is checked the way a push service checks it (VAPID JWT, headers) and
decrypted with the browser's own keys, so the assertions are on what the phone shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from steeple.node import Node
from tests.push.fake_web_push import Answer, FakeWebPush
from tests.push.helpers import ADMIN, dispatcher, push_logs, say, subscribe_browser
from tests.support.alert_steps import alerts_socket, counts, open_thread
from tests.support.clocks import DrivenClock
from tests.support.wsclient import TestSocket

Sockets = Callable[[], Awaitable[TestSocket]]


async def test_a_person_with_a_live_alerts_socket_gets_the_frame_and_no_push(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush, push_sockets: Sockets
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    bob = await alerts_socket(push_http, await push_sockets(), "P2")
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "See you at small group?")
    frame = await bob.next("privateMessage")
    assert frame["data"]["message"]["content"] == "See you at small group?"
    await dispatcher(push_node).drained()
    assert push_service.requests == [] and push_service.hanging == 0
    assert await push_logs(push_node, "P2") == []


async def test_with_every_socket_closed_the_browser_gets_the_push_and_the_badge(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush, push_sockets: Sockets
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    bob = await alerts_socket(push_http, await push_sockets(), "P2")
    await bob.close()
    created = await push_http.post(
        "/notifications/create",
        json={"peopleIds": ["P2"], "contentType": "event", "contentId": "E1", "message": "Potluck"},
        headers=ADMIN,
    )
    assert created.status_code == 200
    thread = await open_thread(push_http, "P1", "P2")
    long_text = "Bring a dish. " * 30
    await say(push_http, thread, "P1", long_text)
    delivered = await push_service.wait_for(2)
    unread = await counts(push_http, "P2")
    assert unread == {"notificationCount": 1, "pmCount": 1}
    first, second = (d.push for d in delivered)
    assert first == {"title": "New notification", "body": "Potluck", "link": "", "badge": 1}
    assert second is not None
    assert second["title"] == "New message from Pat P1"
    assert len(second["body"]) == 180 and long_text.startswith(second["body"][:-1])
    assert second["link"] == f"/messages/{thread['conversationId']}"
    assert second["badge"] == unread["notificationCount"] + unread["pmCount"]
    headers = delivered[1].headers
    assert headers["urgency"] == "high" and delivered[0].headers["urgency"] == "normal"
    assert len(headers["topic"]) == 32 and headers["topic"] != delivered[0].headers["topic"]
    assert int(headers["ttl"]) > 0
    await dispatcher(push_node).drained()
    logs = await push_logs(push_node, "P2")
    assert [(r["success"], r["deliveryAddress"]) for r in logs] == [(True, "127.0.0.1")] * 2
    assert logs[1]["contentType"] == "privateMessage"


async def test_a_busy_thread_keeps_one_collapse_slot(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    thread = await open_thread(push_http, "P1", "P2")
    other = await open_thread(push_http, "P3", "P2")
    for text in ("one", "two"):
        await say(push_http, thread, "P1", text)
    await say(push_http, other, "P3", "three")
    delivered = await push_service.wait_for(3)
    topics = [d.headers["topic"] for d in delivered]
    assert topics[0] == topics[1] != topics[2]


async def test_send_test_says_push_when_it_pushed(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush, push_sockets: Sockets
) -> None:
    tested = await push_http.post("/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN)
    assert tested.json() == {"method": "", "success": True}  # no socket, no subscription
    await subscribe_browser(push_http, push_service, "P2")
    tested = await push_http.post(
        "/notifications/sendTest", json={"personId": "P2", "title": "Hello"}, headers=ADMIN
    )
    assert tested.json() == {"method": "push", "success": True}
    assert [p["title"] for p in push_service.pushes] == ["Hello"]
    bob = await alerts_socket(push_http, await push_sockets(), "P2")
    tested = await push_http.post("/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN)
    assert tested.json() == {"method": "socket", "success": True}
    await bob.next("notification")
    await dispatcher(push_node).drained()
    assert len(push_service.pushes) == 1


async def test_410_removes_the_subscription(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    assert len(await push_node.store.devices.for_person("CH1", "P2")) == 1
    push_service.answers.append(Answer(410))
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "Are you still there?")
    await push_service.wait_for(1)
    await dispatcher(push_node).drained()
    assert await push_node.store.devices.for_person("CH1", "P2") == []
    logs = await push_logs(push_node, "P2")
    assert [(r["success"], r["errorMessage"]) for r in logs] == [(False, "HTTP 410")]
    await say(push_http, thread, "P1", "Hello?")
    await dispatcher(push_node).drained()
    assert len(push_service.requests) == 1  # nothing left to push to


async def test_429_with_retry_after_is_retried_after_that_long(
    push_node: Node,
    push_http: httpx.AsyncClient,
    push_service: FakeWebPush,
    clock: DrivenClock,
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    push_service.answers.extend([Answer(429, {"Retry-After": "7"}), Answer(503), Answer(201)])
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "Try again")
    delivered = await push_service.wait_for(3)
    assert [d.status for d in delivered] == [429, 503, 201]
    assert delivered[2].push is not None and delivered[2].push["body"] == "Try again"
    assert clock.slept == [7.0, 2.0]  # the service's Retry-After, then our own backoff
    await dispatcher(push_node).drained()
    logs = await push_logs(push_node, "P2")
    assert [(r["success"], r["errorMessage"]) for r in logs] == [
        (False, "HTTP 429"),
        (False, "HTTP 503"),
        (True, None),
    ]


async def test_retries_are_bounded(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    push_service.answers.extend([Answer(500)] * 5)
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "Anyone?")
    await push_service.wait_for(3)
    await dispatcher(push_node).drained()
    assert len(push_service.requests) == push_node.settings.push_attempts == 3
    assert [r["success"] for r in await push_logs(push_node, "P2")] == [False] * 3
    assert len(await push_node.store.devices.for_person("CH1", "P2")) == 1  # kept


async def test_a_retry_after_beyond_the_cap_is_not_retried(
    push_node: Node,
    push_http: httpx.AsyncClient,
    push_service: FakeWebPush,
    clock: DrivenClock,
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    push_service.answers.append(Answer(429, {"Retry-After": "3600"}))
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "Later")
    await push_service.wait_for(1)
    await dispatcher(push_node).drained()
    assert len(push_service.requests) == 1 and clock.slept == []
