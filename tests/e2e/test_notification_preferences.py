"""PROTOCOL.md 4.5: notification preference categories, ``my`` and saving them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.alert_steps import is_json_error
from tests.support.nodes import auth

KEYS = [
    "direct_messages",
    "group_messages",
    "announcements",
    "group_activity",
    "event_reminders",
    "serving_schedule",
    "tasks",
]
CHANNELS = {"push", "email", "in_app", "sms"}
ME = auth("CH1", "P1")


async def mine(http: httpx.AsyncClient, headers: dict[str, str] = ME) -> dict[str, Any]:
    response = await http.get("/notificationPreferences/my", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def save(http: httpx.AsyncClient, body: Any, headers: dict[str, str] = ME) -> Any:
    response = await http.post("/notificationPreferences", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def category(view: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in view["categories"] if c["categoryKey"] == key)


async def test_the_catalogue_lists_the_seven_categories(http: httpx.AsyncClient) -> None:
    denied = await http.get("/notificationPreferences/categories")
    assert denied.status_code == 401 and denied.json() == []
    response = await http.get("/notificationpreferences/CATEGORIES", headers=ME)
    assert response.status_code == 200
    catalogue = response.json()
    assert [c["categoryKey"] for c in catalogue] == KEYS
    assert [c["sortOrder"] for c in catalogue] == sorted(c["sortOrder"] for c in catalogue)
    for entry in catalogue:
        assert set(entry) == {
            "categoryKey",
            "displayName",
            "tier",
            "mandatory",
            "transactional",
            "defaultChannels",
            "allowedChannels",
            "sortOrder",
        }
        assert set(entry["defaultChannels"]) <= set(entry["allowedChannels"]) <= CHANNELS
        assert entry["displayName"] and isinstance(entry["tier"], int)
    assert [c["categoryKey"] for c in catalogue if c["mandatory"]] == ["serving_schedule"]


async def test_my_row_is_created_on_first_read_with_the_defaults(http: httpx.AsyncClient) -> None:
    denied = await http.get("/notificationPreferences/my")
    assert denied.status_code == 401 and denied.json() == {}
    first = await mine(http)
    assert first["churchId"] == "CH1" and first["personId"] == "P1"
    assert (first["allowPush"], first["emailFrequency"], first["masterMute"]) == (
        True,
        "daily",
        False,
    )
    for name in ("quietHoursStart", "quietHoursEnd", "timeZone", "allowSms", "maxPushPerDay"):
        assert first[name] is None, name
    assert [c["categoryKey"] for c in first["categories"]] == KEYS
    group = category(first, "group_messages")
    assert group["channels"] == {"push": True, "email": False, "in_app": True, "sms": False}
    assert group["locked"] is False and set(group) == {
        "categoryKey",
        "displayName",
        "tier",
        "locked",
        "allowedChannels",
        "channels",
    }
    assert category(first, "serving_schedule")["locked"] is True
    assert (await mine(http))["id"] == first["id"]
    assert (await mine(http, auth("CH2", "P1")))["id"] != first["id"]


async def test_saving_the_object_form_applies_fields_and_overrides(
    http: httpx.AsyncClient,
) -> None:
    body = {
        "allowPush": False,
        "emailFrequency": "weekly",
        "masterMute": True,
        "quietHoursStart": "22:00",
        "quietHoursEnd": "06:30:15",
        "timeZone": "America/Chicago",
        "maxPushPerDay": 0,
        "churchId": "CH9",
        "personId": "P9",
        "overrides": [
            {"categoryKey": "group_messages", "channel": "push", "optedIn": False},
            {"categoryKey": "group_activity", "channel": "email", "optedIn": True},
        ],
    }
    saved = await save(http, body)
    assert (saved["churchId"], saved["personId"]) == ("CH1", "P1")
    assert saved == await mine(http)
    assert (saved["allowPush"], saved["emailFrequency"], saved["masterMute"]) == (
        False,
        "weekly",
        True,
    )
    assert (saved["quietHoursStart"], saved["quietHoursEnd"]) == ("22:00:00", "06:30:15")
    assert (saved["timeZone"], saved["maxPushPerDay"]) == ("America/Chicago", 0)
    assert category(saved, "group_messages")["channels"]["push"] is False
    assert category(saved, "group_activity")["channels"]["email"] is True
    assert (await mine(http, auth("CH9", "P9")))["allowPush"] is True  # the body's ids ignored

    cleared = await save(http, {"quietHoursStart": "", "timeZone": None, "maxPushPerDay": None})
    assert (cleared["quietHoursStart"], cleared["timeZone"], cleared["maxPushPerDay"]) == (
        None,
        None,
        None,
    )
    assert cleared["quietHoursEnd"] == "06:30:15" and cleared["emailFrequency"] == "weekly"


async def test_sending_the_whole_grid_back_is_accepted(http: httpx.AsyncClient) -> None:
    """Locked categories and sms may be echoed unchanged; they just are not stored."""
    view = await mine(http)
    grid = [
        {"categoryKey": c["categoryKey"], "channel": channel, "optedIn": on}
        for c in view["categories"]
        for channel, on in c["channels"].items()
    ]
    assert await save(http, {"overrides": grid}) == view


async def test_bad_values_are_a_400_naming_them_and_change_nothing(
    http: httpx.AsyncClient,
) -> None:
    before = await mine(http)

    def override(key: str, channel: str, opted_in: Any) -> dict[str, Any]:
        return {
            "allowPush": False,
            "overrides": [{"categoryKey": key, "channel": channel, "optedIn": opted_in}],
        }

    cases: list[tuple[Any, str]] = [
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"timeZone": 5}, "timeZone"),
        ({"quietHoursStart": "25:00"}, "quietHoursStart"),
        ({"quietHoursEnd": "12:60"}, "quietHoursEnd"),
        ({"quietHoursEnd": "7:00"}, "quietHoursEnd"),
        ({"quietHoursEnd": "07:00:61"}, "quietHoursEnd"),
        ({"quietHoursStart": 700}, "quietHoursStart"),
        ({"maxPushPerDay": -1}, "maxPushPerDay"),
        ({"maxPushPerDay": 1.5}, "maxPushPerDay"),
        ({"maxPushPerDay": "3"}, "maxPushPerDay"),
        ({"maxPushPerDay": True}, "maxPushPerDay"),
        ({"emailFrequency": "hourly"}, "emailFrequency"),
        ({"allowPush": "yes"}, "allowPush"),
        (override("gossip", "push", True), "categoryKey"),
        (override(["tasks"], "push", True), "categoryKey"),
        (override("tasks", "pigeon", True), "channel"),
        (override("tasks", "push", "yes"), "optedIn"),
        (override("tasks", "sms", True), "sms"),
        (override("serving_schedule", "push", False), "serving_schedule"),
        (override("group_messages", "sms", True), "sms"),
        ({"allowPush": False, "overrides": {"tasks": True}}, "overrides"),
        ({"allowPush": False, "overrides": [7]}, "overrides"),
    ]
    for body, named in cases:
        response = await http.post("/notificationPreferences", json=body, headers=ME)
        assert is_json_error(response, 400), (body, response.text)
        assert named in response.json()["error"], (body, response.text)
    assert await mine(http) == before


async def test_the_legacy_array_form_saves_the_callers_row(http: httpx.AsyncClient) -> None:
    saved = await save(
        http, [{"id": "whatever", "personId": "P9", "allowPush": False, "emailFrequency": "never"}]
    )
    assert len(saved) == 1 and "categories" not in saved[0]
    assert (saved[0]["personId"], saved[0]["allowPush"], saved[0]["emailFrequency"]) == (
        "P1",
        False,
        "never",
    )
    assert (await mine(http))["id"] == saved[0]["id"]
    assert await save(http, []) == []
    bad = await http.post("/notificationPreferences", json=[{"emailFrequency": 3}], headers=ME)
    assert is_json_error(bad, 400)


async def test_saving_needs_a_signed_in_person(http: httpx.AsyncClient) -> None:
    for headers in ({}, auth("CH1", "")):
        denied = await http.post(
            "/notificationPreferences", json={"allowPush": False}, headers=headers
        )
        assert denied.status_code == 401 and denied.json() == {}
    for raw in (b"", b"{", b"7", b'"x"'):
        response = await http.post(
            "/notificationPreferences",
            content=raw,
            headers={**ME, "content-type": "application/json"},
        )
        assert is_json_error(response, 400), raw
