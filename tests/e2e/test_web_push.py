"""PROTOCOL.md 4.5: the VAPID public key, web push subscriptions, ``steeple vapid``."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steeple import cli
from steeple.errors import ConfigError
from steeple.node import Node
from steeple.push.vapid import VapidKeys
from tests.support.alert_steps import is_json_error
from tests.support.nodes import auth, node_settings

ME = auth("CH1", "P1")
EDITOR = auth("CH1", "ED", permissions=["Content__Edit"])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_key() -> str:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point)


def subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc123", **keys: Any) -> Any:
    chosen = {"p256dh": client_key(), "auth": b64url(secrets.token_bytes(16)), **keys}
    return {"endpoint": endpoint, "expirationTime": None, "keys": chosen}


async def subscribe(
    http: httpx.AsyncClient, headers: dict[str, str] = ME, **fields: Any
) -> dict[str, Any]:
    body = {"subscription": subscription(), **fields}
    response = await http.post("/webpush/subscribe", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def devices(http: httpx.AsyncClient, person: str = "P1") -> list[dict[str, Any]]:
    response = await http.get(f"/devices/CH1/person/{person}", headers=auth("CH1", person))
    assert response.status_code == 200, response.text
    return list(response.json())


@pytest.fixture
async def vapid_node(sqlite_url: str) -> AsyncIterator[tuple[Node, VapidKeys]]:
    keys = VapidKeys.generate()
    running = Node(node_settings(sqlite_url, vapid_private_key=keys.private_key_b64))
    await running.start()
    yield running, keys
    await running.stop()


async def test_without_a_key_web_push_is_off(http: httpx.AsyncClient) -> None:
    response = await http.get("/webpush/publicKey")
    assert response.status_code == 200
    assert response.json() == {"publicKey": "", "enabled": False}


async def test_the_public_key_is_the_configured_keys_uncompressed_point(
    vapid_node: tuple[Node, VapidKeys],
) -> None:
    node, keys = vapid_node
    async with httpx.AsyncClient(base_url=node.http_url + "/messaging") as http:
        answer = (await http.get("/WebPush/PublicKey")).json()
    assert answer == {"publicKey": keys.public_key_b64, "enabled": True}
    point = b64url_decode(answer["publicKey"])
    assert len(point) == 65 and point[0] == 4
    expected = keys.private_key.public_key().public_numbers()
    assert int.from_bytes(point[1:33], "big") == expected.x
    assert int.from_bytes(point[33:], "big") == expected.y


def test_a_pem_key_gives_the_same_public_key_as_its_raw_form() -> None:
    keys = VapidKeys.generate()
    pem = keys.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    assert VapidKeys.parse(pem).public_key_b64 == keys.public_key_b64
    escaped = pem.replace("\n", "\\n")  # as an env file often carries it
    assert VapidKeys.parse(escaped).public_key_b64 == keys.public_key_b64
    assert VapidKeys.parse(keys.private_key_b64 + "=").public_key_b64 == keys.public_key_b64


@pytest.mark.parametrize(
    "value",
    [
        "not base64 !",
        b64url(b"\x01" * 31),
        b64url(b"\x00" * 32),
        b64url(b"\xff" * 32),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ],
)
def test_a_bad_private_key_stops_the_node(sqlite_url: str, value: str) -> None:
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY"):
        Node(node_settings(sqlite_url, vapid_private_key=value))


def test_a_bad_subject_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="VAPID_SUBJECT"):
        node_settings(sqlite_url, vapid_subject="admin@example.org")


def test_steeple_vapid_prints_a_matching_pair(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["vapid"]) == 0
    lines = capsys.readouterr().out.splitlines()
    public = next(line.split()[-1] for line in lines if line.startswith("public key"))
    private = next(line.split("=", 1)[1] for line in lines if line.startswith("VAPID_PRIVATE_KEY="))
    assert len(b64url_decode(private)) == 32
    assert VapidKeys.parse(private).public_key_b64 == public
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(public))


async def test_a_subscription_is_stored_as_a_device_and_updated_by_endpoint(
    http: httpx.AsyncClient,
) -> None:
    denied = await http.post("/webpush/subscribe", json={"subscription": subscription()})
    assert denied.status_code == 401 and denied.json() == {}
    first = await subscribe(http, label="Laptop", deviceInfo={"browser": "Firefox"})
    assert first["success"] is True and first["id"]
    [row] = await devices(http)
    assert (row["id"], row["appName"], row["label"]) == (first["id"], "B1App", "Laptop")
    assert row["deviceInfo"] == '{"browser":"Firefox"}'
    assert row["fcmToken"].startswith('webpush:{"endpoint":"https://fcm.googleapis.com/')
    assert row["registrationDate"] == row["lastActiveDate"]

    again = await subscribe(http)  # same endpoint, fresh keys
    assert again["id"] == first["id"]
    [updated] = await devices(http)
    assert updated["fcmToken"] != row["fcmToken"] and updated["label"] == "Laptop"
    assert updated["registrationDate"] == row["registrationDate"]
    assert updated["lastActiveDate"] > row["lastActiveDate"]

    other_person = await subscribe(http, auth("CH1", "P2"))  # the browser changed hands
    assert other_person["id"] == first["id"]
    assert await devices(http) == [] and len(await devices(http, "P2")) == 1
    other_church = await subscribe(http, auth("CH2", "P2"))
    assert other_church["id"] != first["id"]


@pytest.mark.parametrize(
    "broken",
    [
        {"endpoint": "http://push.example/abc"},
        {"endpoint": "ftp://push.example/abc"},
        {"endpoint": "not a url"},
        {"endpoint": "https://"},
        {"endpoint": "https://user:pw@push.example/abc"},
        {"endpoint": "https://push.example/" + "x" * 3000},
        {"endpoint": "https://[::1/abc"},
        {"endpoint": 5},
        {"keys": None},
        {"keys": {"auth": b64url(secrets.token_bytes(16))}},
        {"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"a" * 16)}},
        {"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 10), "auth": b64url(b"a" * 16)}},
        {"keys": {"p256dh": client_key()[:-2], "auth": b64url(b"a" * 16)}},
        {"keys": {"p256dh": client_key(), "auth": b64url(b"a" * 15)}},
        {"keys": {"p256dh": client_key(), "auth": "***not*base64***"}},
        {"keys": {"p256dh": client_key(), "auth": 16}},
    ],
)
async def test_an_invalid_subscription_is_refused_with_its_shape(
    http: httpx.AsyncClient, broken: dict[str, Any]
) -> None:
    body = {"subscription": {**subscription(), **broken}}
    response = await http.post("/webpush/subscribe", json=body, headers=ME)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert (answer["success"], answer["error"]) == (False, "invalid subscription")
    assert answer["detail"]
    assert await devices(http) == []


async def test_a_body_that_is_not_a_subscription_is_refused_alike(http: httpx.AsyncClient) -> None:
    headers = {**ME, "content-type": "application/json"}
    for raw in (b"", b"{", b"[]", b'{"subscription": "x"}', b"{}", b'{"appName": "x"}'):
        response = await http.post("/webpush/subscribe", content=raw, headers=headers)
        assert response.status_code == 400, raw
        assert response.json()["error"] == "invalid subscription"
    too_long = {"subscription": subscription(), "appName": "x" * 21}
    response = await http.post("/webpush/subscribe", json=too_long, headers=ME)
    assert response.status_code == 400 and "appName" in response.json()["detail"]


async def test_anyone_unsubscribes_by_exact_endpoint_only(http: httpx.AsyncClient) -> None:
    await subscribe(http)
    keep = {"subscription": subscription("https://fcm.googleapis.com/fcm/send/abc1234")}
    assert (await http.post("/webpush/subscribe", json=keep, headers=ME)).status_code == 200
    endpoint = subscription()["endpoint"]
    gone = await http.post("/webpush/unsubscribe", json={"endpoint": endpoint})
    assert gone.status_code == 200 and gone.json() == {"success": True}
    assert [d["fcmToken"].count("abc1234") for d in await devices(http)] == [1]
    again = await http.post("/webpush/unsubscribe", json={"endpoint": endpoint})
    assert again.json() == {"success": False}
    unknown = await http.post("/webpush/unsubscribe", json={"endpoint": endpoint[:-1] + "%"})
    assert unknown.json() == {"success": False}  # a LIKE wildcard matches nothing else
    for body in ({}, {"endpoint": "http://x/"}, {"endpoint": ["x"]}, []):
        refused = await http.post("/webpush/unsubscribe", json=body)
        assert refused.status_code == 400 and refused.json()["success"] is False, body
    assert len(await devices(http)) == 1


async def test_deleting_a_subscription_by_id_is_for_its_owner_or_an_editor(
    http: httpx.AsyncClient,
) -> None:
    mine = await subscribe(http)
    for headers in ({}, auth("CH1", "P2")):
        denied = await http.delete(f"/webpush/subscription/{mine['id']}", headers=headers)
        assert denied.status_code == 401 and denied.json() == {}
    foreign_editor = auth("CH2", "P1", permissions=["Content__Edit"])
    foreign = await http.delete(f"/webpush/subscription/{mine['id']}", headers=foreign_editor)
    assert is_json_error(foreign, 404)  # looked up in the caller's church only
    assert len(await devices(http)) == 1
    by_editor = await http.delete(f"/webpush/subscription/{mine['id']}", headers=EDITOR)
    assert by_editor.status_code == 200 and by_editor.json() == {"success": True}
    assert await devices(http) == []
    second = await subscribe(http)
    own = await http.delete(f"/webpush/subscription/{second['id']}", headers=ME)
    assert own.json() == {"success": True}
    missing = await http.delete(f"/webpush/subscription/{second['id']}", headers=ME)
    assert is_json_error(missing, 404)
