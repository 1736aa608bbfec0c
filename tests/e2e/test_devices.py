"""PROTOCOL.md 4.5: B1Mobile's device enrollment, listing and deletion."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.alert_steps import is_json_error
from tests.support.nodes import auth

ME = auth("CH1", "P1")
ADMIN = auth("CH1", "ADM", permissions=["Messaging__Admin"])
EDITOR = auth("CH1", "ED", permissions=["Content__Edit"])
TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"


async def enroll(http: httpx.AsyncClient, headers: dict[str, str] = ME, **body: Any) -> Any:
    response = await http.post("/devices/enroll", json={"fcmToken": TOKEN, **body}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(
    http: httpx.AsyncClient, person: str = "P1", church: str = "CH1"
) -> list[dict[str, Any]]:
    response = await http.get(f"/devices/{church}/person/{person}", headers=auth(church, person))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_enroll_creates_then_finds_the_device_by_token(http: httpx.AsyncClient) -> None:
    denied = await http.post("/devices/enroll", json={"fcmToken": TOKEN})
    assert denied.status_code == 401 and denied.json() == {}
    first = await enroll(http, deviceId="phone-1", label="Pat's iPhone", deviceInfo={"os": "iOS"})
    assert (first["churchId"], first["personId"], first["appName"]) == ("CH1", "P1", "B1Mobile")
    assert (first["fcmToken"], first["deviceId"], first["label"]) == (
        TOKEN,
        "phone-1",
        "Pat's iPhone",
    )
    assert first["deviceInfo"] == '{"os":"iOS"}'
    assert first["registrationDate"] == first["lastActiveDate"]
    again = await enroll(http)
    assert again["id"] == first["id"] and again["label"] == "Pat's iPhone"
    assert again["registrationDate"] == first["registrationDate"]
    assert again["lastActiveDate"] > first["lastActiveDate"]
    assert [d["id"] for d in await listed(http)] == [first["id"]]


async def test_enroll_falls_back_to_the_device_id_and_follows_the_signed_in_person(
    http: httpx.AsyncClient,
) -> None:
    first = await enroll(http, deviceId="phone-1")
    new_token = await enroll(http, fcmToken="ExponentPushToken[rotated]", deviceId="phone-1")
    assert new_token["id"] == first["id"] and new_token["fcmToken"] == "ExponentPushToken[rotated]"
    other_app = await enroll(http, fcmToken="fcm-token-2", deviceId="phone-1", appName="B1Checkin")
    assert other_app["id"] != first["id"] and other_app["appName"] == "B1Checkin"
    handed_over = await enroll(http, auth("CH1", "P2"), fcmToken="ExponentPushToken[rotated]")
    assert handed_over["id"] == first["id"] and handed_over["personId"] == "P2"
    assert [d["id"] for d in await listed(http)] == [other_app["id"]]
    other_church = await enroll(http, auth("CH2", "P1"), fcmToken="ExponentPushToken[rotated]")
    assert other_church["id"] != first["id"] and other_church["churchId"] == "CH2"


async def test_enroll_refuses_bad_input_naming_it(http: httpx.AsyncClient) -> None:
    cases: list[tuple[Any, str]] = [
        ({}, "fcmToken"),
        ({"fcmToken": ""}, "fcmToken"),
        ({"fcmToken": 42}, "fcmToken"),
        ({"fcmToken": "t" * 5000}, "fcmToken"),
        ({"fcmToken": 'webpush:{"endpoint":"https://x/"}'}, "webpush"),
        ({"fcmToken": TOKEN, "appName": "a" * 21}, "appName"),
        ({"fcmToken": TOKEN, "deviceId": "d" * 46}, "deviceId"),
        ({"fcmToken": TOKEN, "label": ["x"]}, "label"),
        ({"fcmToken": TOKEN, "deviceInfo": 7}, "deviceInfo"),
        ({"fcmToken": TOKEN, "deviceInfo": "i" * 9000}, "deviceInfo"),
        ([{"fcmToken": TOKEN}], "object"),
    ]
    for body, named in cases:
        response = await http.post("/devices/enroll", json=body, headers=ME)
        assert is_json_error(response, 400), (body, response.text)
        assert named in response.json()["error"], (body, response.text)
    assert await listed(http) == []


async def test_listing_is_for_the_person_or_messaging_admin(http: httpx.AsyncClient) -> None:
    device = await enroll(http)
    assert [d["id"] for d in await listed(http)] == [device["id"]]
    by_admin = await http.get("/DEVICES/CH1/Person/P1", headers=ADMIN)
    assert [d["id"] for d in by_admin.json()] == [device["id"]]
    foreign_admin = auth("CH2", "ADM", permissions=["Messaging__Admin"])
    for headers in ({}, auth("CH1", "P2"), EDITOR, foreign_admin, auth("CH2", "P1")):
        denied = await http.get("/devices/CH1/person/P1", headers=headers)
        assert denied.status_code == 401 and denied.json() == []
    assert await listed(http, "P2") == []


async def test_delete_is_for_the_owner_or_content_edit(http: httpx.AsyncClient) -> None:
    device = await enroll(http)
    for headers in ({}, auth("CH1", "P2"), ADMIN, auth("CH2", "ED", permissions=["Content__Edit"])):
        denied = await http.delete(f"/devices/CH1/{device['id']}", headers=headers)
        assert denied.status_code == 401 and denied.json() == {}
    assert len(await listed(http)) == 1
    removed = await http.delete(f"/devices/CH1/{device['id']}", headers=EDITOR)
    assert removed.status_code == 200 and removed.json() == {}
    assert await listed(http) == []
    assert is_json_error(await http.delete(f"/devices/CH1/{device['id']}", headers=ME), 404)
    mine = await enroll(http)
    own = await http.delete(f"/devices/CH1/{mine['id']}", headers=ME)
    assert own.status_code == 200 and own.json() == {}
    assert is_json_error(await http.delete("/devices/CH1/bad.id", headers=ME), 400)
