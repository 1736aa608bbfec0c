"""Device rows: Expo tokens and web push subscriptions, found by token, device id or endpoint."""

from __future__ import annotations

from typing import Any, cast

from steeple.push.subscription import token_prefix
from steeple.storage.rows import DeviceRow
from steeple.storage.store import Store
from steeple.types import new_id
from tests.storage.rows import at


def device(church: str = "CH1", person: str = "P1", **fields: Any) -> DeviceRow:
    row = {
        "id": new_id(),
        "appName": "B1Mobile",
        "deviceId": None,
        "churchId": church,
        "personId": person,
        "fcmToken": "ExponentPushToken[" + new_id() + "]",
        "label": None,
        "registrationDate": at(),
        "lastActiveDate": at(),
        "deviceInfo": None,
    }
    return cast(DeviceRow, {**row, **fields})


def web_push(endpoint: str, church: str = "CH1", person: str = "P1") -> DeviceRow:
    token = token_prefix(endpoint) + '"keys":{"p256dh":"BA","auth":"AA"}}'
    return device(church, person, appName="B1App", fcmToken=token)


async def test_add_get_update_and_church_scoping(store: Store) -> None:
    row = device(label="Pat's phone", deviceInfo='{"os":"ios"}')
    await store.devices.add(row)
    assert await store.devices.get("CH1", row["id"]) == row
    assert await store.devices.get("CH2", row["id"]) is None
    await store.devices.update(row["id"], {"personId": "P2", "lastActiveDate": at(5)})
    saved = await store.devices.get("CH1", row["id"])
    assert saved is not None
    assert (saved["personId"], saved["lastActiveDate"], saved["label"]) == (
        "P2",
        at(5),
        "Pat's phone",
    )


async def test_for_person_lists_most_recently_active_first(store: Store) -> None:
    old, new = device(lastActiveDate=at(1)), device(lastActiveDate=at(9))
    for row in (old, new, device(person="P2"), device(church="CH2")):
        await store.devices.add(row)
    assert [r["id"] for r in await store.devices.for_person("CH1", "P1")] == [new["id"], old["id"]]
    assert await store.devices.for_person("CH1", "nobody") == []


async def test_found_by_token_and_by_device_id_within_a_church(store: Store) -> None:
    row = device(deviceId="phone-1", fcmToken="ExponentPushToken[abc]")
    elsewhere = device(church="CH2", deviceId="phone-1", fcmToken="ExponentPushToken[abc]")
    await store.devices.add(row)
    await store.devices.add(elsewhere)
    found = await store.devices.by_token("CH1", "ExponentPushToken[abc]")
    assert found is not None and found["id"] == row["id"]
    assert await store.devices.by_token("CH1", "ExponentPushToken[ab]") is None
    by_id = await store.devices.by_device_id("CH2", "B1Mobile", "phone-1")
    assert by_id is not None and by_id["id"] == elsewhere["id"]
    assert await store.devices.by_device_id("CH1", "OtherApp", "phone-1") is None


async def test_a_long_token_is_stored_whole(store: Store) -> None:
    """A web push subscription's JSON is longer than a varchar(255)."""
    row = web_push("https://push.example/" + "x" * 3000)
    await store.devices.add(row)
    saved = await store.devices.get("CH1", row["id"])
    assert saved is not None and saved["fcmToken"] == row["fcmToken"]


async def test_an_endpoint_prefix_matches_that_endpoint_only(store: Store) -> None:
    """LIKE wildcards in an endpoint are matched literally."""
    exact_endpoint = "https://push.example/a_b%c"
    exact = web_push(exact_endpoint)
    longer = web_push("https://push.example/a_b%cd")
    wildcard_twin = web_push("https://push.example/aXbYc")
    for row in (exact, longer, wildcard_twin):
        await store.devices.add(row)
    found = await store.devices.by_token_prefix("CH1", token_prefix(exact_endpoint))
    assert found is not None and found["id"] == exact["id"]
    assert await store.devices.by_token_prefix("CH2", token_prefix(exact_endpoint)) is None
    assert await store.devices.delete_by_token_prefix(token_prefix(exact_endpoint)) == 1
    remaining = {r["id"] for r in await store.devices.for_person("CH1", "P1")}
    assert remaining == {longer["id"], wildcard_twin["id"]}


async def test_deleting_by_id_is_per_church_and_by_endpoint_is_everywhere(store: Store) -> None:
    phone = device()
    here, there = web_push("https://push.example/e1"), web_push("https://push.example/e1", "CH2")
    other = web_push("https://push.example/e10")
    for row in (phone, here, there, other):
        await store.devices.add(row)
    assert await store.devices.delete("CH2", phone["id"]) == 0
    assert await store.devices.delete("CH1", phone["id"]) == 1
    assert await store.devices.delete_by_token_prefix(token_prefix("https://push.example/e1")) == 2
    assert [r["id"] for r in await store.devices.for_person("CH1", "P1")] == [other["id"]]
