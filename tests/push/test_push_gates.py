"""The preference gates end to end: quiet hours hold pushes as rows and release them
(on the driven clock, and across a restart), the daily cap, opt-outs and mute."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from steeple.node import Node
from steeple.push.vapid import VapidKeys
from tests.push.expo_ca import CertificateFiles as Certificates
from tests.push.fake_web_push import FakeWebPush
from tests.push.helpers import (
    ADMIN,
    dispatcher,
    prefer,
    push_logs,
    push_settings,
    say,
    subscribe_browser,
)
from tests.support.alert_steps import counts, open_thread
from tests.support.clocks import DrivenClock

START = datetime(2026, 12, 2, 23, 0)
"""17:00 in America/Chicago (UTC-6 in December)."""
QUIET = {"quietHoursStart": "16:00", "quietHoursEnd": "18:00", "timeZone": "America/Chicago"}


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock(START)


async def create(http: httpx.AsyncClient, person: str, content_id: str, **fields: str) -> None:
    body = {"peopleIds": [person], "contentType": "event", "contentId": content_id}
    response = await http.post(
        "/notifications/create", json={**body, "message": content_id, **fields}, headers=ADMIN
    )
    assert response.status_code == 200, response.text


async def test_quiet_hours_hold_the_newest_per_conversation_and_release_when_they_end(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush, clock: DrivenClock
) -> None:
    await prefer(push_http, "P2", **QUIET)
    await subscribe_browser(push_http, push_service, "P2")
    thread = await open_thread(push_http, "P1", "P2")
    other = await open_thread(push_http, "P3", "P2")
    await say(push_http, thread, "P1", "first")
    await say(push_http, thread, "P1", "second")
    await say(push_http, other, "P3", "third")
    await dispatcher(push_node).drained()
    assert push_service.requests == []
    held = await push_node.store.held_pushes.for_person("CH1", "P2")
    assert sorted(h["body"] for h in held) == ["second", "third"]
    assert {h["releaseAt"] for h in held} == {datetime(2026, 12, 3, 0, 0)}  # 18:00 Chicago
    clock.advance(3600)
    delivered = await push_service.wait_for(2)
    assert sorted(d.push["body"] for d in delivered if d.push) == ["second", "third"]
    unread = await counts(push_http, "P2")
    assert {d.push["badge"] for d in delivered if d.push} == {sum(unread.values())}
    assert all(d.headers["urgency"] == "high" for d in delivered)
    assert await push_node.store.held_pushes.for_person("CH1", "P2") == []


async def test_held_pushes_survive_a_restart(
    sqlite_url: str,
    vapid: VapidKeys,
    certificates: Certificates,
    push_service: FakeWebPush,
    clock: DrivenClock,
) -> None:
    settings = push_settings(sqlite_url, vapid, certificates)
    first = Node(settings, clock=clock)
    await first.start()
    async with httpx.AsyncClient(base_url=first.http_url + "/messaging") as http:
        await prefer(http, "P2", **QUIET)
        await subscribe_browser(http, push_service, "P2")
        await say(http, await open_thread(http, "P1", "P2"), "P1", "overnight")
    await dispatcher(first).drained()
    await first.stop()
    clock.advance(2 * 3600)
    second = Node(settings, clock=clock)
    await second.start()
    try:
        delivered = await push_service.wait_for(1)
        assert [d.push["body"] for d in delivered if d.push] == ["overnight"]
    finally:
        await second.stop()


async def test_transactional_categories_are_not_held(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush
) -> None:
    await prefer(push_http, "P2", **QUIET)
    await subscribe_browser(push_http, push_service, "P2")
    await create(push_http, "P2", "E1", category="event_reminders")
    await create(push_http, "P2", "T1", category="tasks")
    delivered = await push_service.wait_for(1)
    await dispatcher(push_node).drained()
    assert [d.push["body"] for d in delivered if d.push] == ["T1"]
    held = await push_node.store.held_pushes.for_person("CH1", "P2")
    assert [h["body"] for h in held] == ["E1"]


async def test_the_daily_cap_counts_the_local_day(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush, clock: DrivenClock
) -> None:
    await prefer(push_http, "P2", maxPushPerDay=2, timeZone="America/Chicago")
    await subscribe_browser(push_http, push_service, "P2")
    await subscribe_browser(push_http, push_service, "P2")  # two browsers: still one push each
    for content_id in ("E1", "E2", "E3"):
        await create(push_http, "P2", content_id)
    await dispatcher(push_node).drained()
    assert sorted(p["body"] for p in push_service.pushes) == ["E1", "E1", "E2", "E2"]
    clock.advance(7 * 3600)  # 00:00 in Chicago: a new day
    await create(push_http, "P2", "E4")
    await dispatcher(push_node).drained()
    assert sorted(p["body"] for p in push_service.pushes)[-2:] == ["E4", "E4"]
    assert len(push_service.pushes) == 6


async def test_opt_outs_and_mute_stop_pushes(
    push_node: Node, push_http: httpx.AsyncClient, push_service: FakeWebPush
) -> None:
    await subscribe_browser(push_http, push_service, "P2")
    off = [{"categoryKey": "direct_messages", "channel": "push", "optedIn": False}]
    await prefer(push_http, "P2", overrides=off)
    thread = await open_thread(push_http, "P1", "P2")
    await say(push_http, thread, "P1", "not pushed: direct messages are off")
    await create(push_http, "P2", "E1", category="announcements")
    await dispatcher(push_node).drained()
    assert [p["body"] for p in push_service.pushes] == ["E1"]
    await prefer(push_http, "P2", masterMute=True)
    await create(push_http, "P2", "E2", category="announcements")
    await prefer(push_http, "P2", masterMute=False, allowPush=False)
    await create(push_http, "P2", "E3", category="announcements")
    await dispatcher(push_node).drained()
    assert [p["body"] for p in push_service.pushes] == ["E1"]
    assert [r["success"] for r in await push_logs(push_node, "P2")] == [True]
