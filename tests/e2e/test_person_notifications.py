"""PROTOCOL.md 4.5: notifications by person and id, delete, create and sendTest."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from steeple.node import Node
from tests.support.alert_steps import alerts_socket, counts, is_json_error, open_thread, settle
from tests.support.nodes import auth
from tests.support.steps import post

ADMIN = auth("CH1", "ADM", permissions=["Messaging__Admin"])
FOREIGN_ADMIN = auth("CH2", "ADM", permissions=["Messaging__Admin"])


async def create(http: httpx.AsyncClient, people: list[str], **fields: Any) -> list[dict[str, Any]]:
    body = {"peopleIds": people, "contentType": "event", "contentId": "E1", "message": "Hi"}
    response = await http.post("/notifications/create", json={**body, **fields}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_create_makes_a_row_per_person_and_delivers_fresh_counts(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    bob = await alerts_socket(http, await sockets(), "P2")
    elsewhere = await alerts_socket(http, await sockets(), "P2", church="CH2")
    rows = await create(http, ["P2", "P3", "P2"], message="Potluck Sunday", link="/events/E1")
    assert [r["personId"] for r in rows] == ["P2", "P3"]
    assert {r["churchId"] for r in rows} == {"CH1"}
    assert rows[0]["message"] == "Potluck Sunday" and rows[0]["link"] == "/events/E1"
    assert rows[0]["triggeredByPersonId"] == "ADM" and rows[0]["isNew"] is True
    assert [r["deliveryMethod"] for r in rows] == ["socket", None]
    frame = await bob.next("notification")
    assert frame["conversationId"] == "alert"
    assert frame["data"] == {"counts": {"notificationCount": 1, "pmCount": 0}}
    await settle(elsewhere)
    assert elsewhere.pending("notification") == []
    assert await counts(http, "P3") == {"notificationCount": 1, "pmCount": 0}


async def test_create_needs_messaging_admin_of_the_church(http: httpx.AsyncClient) -> None:
    body = {"peopleIds": ["P2"], "message": "Hi"}
    for headers in ({}, auth("CH1", "P1"), auth("CH1", "P1", permissions=["Content__Edit"])):
        response = await http.post("/notifications/create", json=body, headers=headers)
        assert response.status_code == 401 and response.json() == {}
    foreign = await http.post("/notifications/create", json=body, headers=FOREIGN_ADMIN)
    assert [r["churchId"] for r in foreign.json()] == ["CH2"]  # the token's church, always
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 0}


async def test_create_refuses_bad_input_naming_the_problem(http: httpx.AsyncClient) -> None:
    good = {"peopleIds": ["P2"], "message": "Hi"}
    bad = [
        {"message": "Hi"},
        {**good, "peopleIds": []},
        {**good, "peopleIds": "P2"},
        {**good, "peopleIds": ["P/2"]},
        {**good, "peopleIds": ["P" * 12]},
        {**good, "peopleIds": [{"id": "P2"}]},
        {"peopleIds": ["P2"]},
        {**good, "message": 5},
        {**good, "link": "x" * 101},
        {**good, "contentType": "privateMessage"},
        {**good, "contentId": "c" * 46},
        {**good, "category": "gossip"},
        [good],
    ]
    for body in bad:
        response = await http.post("/notifications/create", json=body, headers=ADMIN)
        assert is_json_error(response, 400), (body, response.text)
    assert await counts(http, "P2") == {"notificationCount": 0, "pmCount": 0}


async def test_by_person_for_self_or_admin_newest_first_without_thread_rows(
    http: httpx.AsyncClient,
) -> None:
    first = (await create(http, ["P2"], message="first"))[0]
    second = (await create(http, ["P2"], message="second"))[0]
    thread = await open_thread(http, "P1", "P2")
    await post(http, {"id": thread["conversationId"]}, "psst", auth("CH1", "P1"))
    assert (await counts(http, "P2"))["pmCount"] == 1  # the thread's own row exists
    for headers in (auth("CH1", "P2"), ADMIN):
        listed = await http.get("/notifications/CH1/person/P2", headers=headers)
        assert listed.status_code == 200
        assert [n["id"] for n in listed.json()] == [second["id"], first["id"]]
    for headers in ({}, auth("CH1", "P1"), FOREIGN_ADMIN, auth("CH2", "P2")):
        denied = await http.get("/notifications/CH1/person/P2", headers=headers)
        assert denied.status_code == 401 and denied.json() == []
    assert (await http.get("/NOTIFICATIONS/CH1/PERSON/P2", headers=ADMIN)).status_code == 200


async def test_one_notification_for_its_owner_or_admin(http: httpx.AsyncClient) -> None:
    row = (await create(http, ["P2"]))[0]
    for headers in (auth("CH1", "P2"), ADMIN):
        found = await http.get(f"/notifications/CH1/{row['id']}", headers=headers)
        assert found.status_code == 200 and found.json()["id"] == row["id"]
    for headers in ({}, auth("CH1", "P1"), FOREIGN_ADMIN):
        denied = await http.get(f"/notifications/CH1/{row['id']}", headers=headers)
        assert denied.status_code == 401 and denied.json() == {}
    missing = await http.get("/notifications/CH1/nothing0001", headers=ADMIN)
    assert is_json_error(missing, 404)
    assert is_json_error(await http.get("/notifications/CH1/a.b", headers=ADMIN), 400)


async def test_delete_by_owner_or_admin_refreshes_the_owners_counts(
    http: httpx.AsyncClient, sockets: Any
) -> None:
    mine, another = await create(http, ["P2"]), await create(http, ["P2"])
    bob = await alerts_socket(http, await sockets(), "P2")
    for headers in ({}, auth("CH1", "P1"), FOREIGN_ADMIN):
        denied = await http.delete(f"/notifications/CH1/{mine[0]['id']}", headers=headers)
        assert denied.status_code == 401 and denied.json() == {}
    assert (await counts(http, "P2"))["notificationCount"] == 2
    own = await http.delete(f"/notifications/CH1/{mine[0]['id']}", headers=auth("CH1", "P2"))
    assert own.status_code == 200 and own.json() == {}
    frame = await bob.next("notification")
    assert frame["data"]["counts"]["notificationCount"] == 1
    by_admin = await http.delete(f"/notifications/CH1/{another[0]['id']}", headers=ADMIN)
    assert by_admin.status_code == 200 and by_admin.json() == {}
    assert (await http.get("/notifications/CH1/person/P2", headers=ADMIN)).json() == []
    again = await http.delete(f"/notifications/CH1/{another[0]['id']}", headers=ADMIN)
    assert is_json_error(again, 404)


async def test_send_test_reports_the_socket_that_reached_the_person(
    http: httpx.AsyncClient, sockets: Any, node: Node
) -> None:
    bob = await alerts_socket(http, await sockets(), "P2")
    reached = await http.post("/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN)
    assert reached.status_code == 200
    assert reached.json() == {"method": "socket", "success": True}
    assert (await bob.next("notification"))["data"]["counts"] == {
        "notificationCount": 0,
        "pmCount": 0,
    }
    logged = await node.store.delivery_logs.for_person("CH1", "P2")
    assert [(r["deliveryMethod"], r["success"]) for r in logged] == [("socket", True)]

    nobody = await http.post(
        "/notifications/sendTest", json={"personId": "P3", "title": "Hello?"}, headers=ADMIN
    )
    assert nobody.json() == {"method": "", "success": True}
    await bob.close()
    # The server forgets the socket once it has seen the close; poll with a deadline.
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        gone = await http.post("/notifications/sendTest", json={"personId": "P2"}, headers=ADMIN)
        if gone.json()["method"] == "" or asyncio.get_running_loop().time() > deadline:
            break
    assert gone.json() == {"method": "", "success": True}  # a closed socket reaches nobody


async def test_send_test_needs_admin_and_a_person_id(http: httpx.AsyncClient) -> None:
    for headers in ({}, auth("CH1", "P2")):
        denied = await http.post(
            "/notifications/sendTest", json={"personId": "P2"}, headers=headers
        )
        assert denied.status_code == 401 and denied.json() == {}
    for body in ({}, {"personId": ""}, {"personId": 7}, {"personId": "P2", "title": ["x"]}, []):
        response = await http.post("/notifications/sendTest", json=body, headers=ADMIN)
        assert is_json_error(response, 400), (body, response.text)
