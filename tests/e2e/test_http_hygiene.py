"""HTTP hygiene over real HTTP (PROTOCOL.md 5.6): JSON content types, security headers.

A body that is not declared JSON is a 415 on every route that takes one, and nothing
is written; pages refuse to be framed; every answer says nosniff and no-referrer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from steeple.node import Node
from steeple.storage.schema import metadata
from tests.support.nodes import auth
from tests.support.steps import join, live_room, send
from tests.support.wsclient import TestSocket

HOST = auth("CH1", "P1", permissions=["Content__Edit", "Chat__Host"])
NOT_JSON = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "text/json",
    "application/json-seq",
    "",
]
JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON;charset=UTF-8",
    "application/vnd.api+json",
]


@pytest.fixture
async def site(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=node.http_url, timeout=10) as client:
        yield client


async def _row_counts(node: Node) -> dict[str, int]:
    async with node.store.engine.connect() as db:
        return {
            table.name: int(await db.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def _writing_routes(node: Node, values: dict[str, str]) -> list[tuple[str, str]]:
    """Every route that is not a read, its path parameters filled with real ids."""
    found = []
    for route in node.router.routes():
        if route.method in ("GET", "HEAD"):
            continue
        parts = [values.get(s[1:], "x") if s.startswith(":") else s for s in route.segments]
        found.append((route.method, "/" + "/".join(parts)))
    return found


async def test_bodies_not_declared_json_are_415_everywhere_and_write_nothing(
    node: Node, site: httpx.AsyncClient, sockets: Any
) -> None:
    http = httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10)
    room = await live_room(http)
    viewer: TestSocket = await sockets()
    await join(http, viewer, room, "Viewer")
    message = await send(http, room, "hello")
    values = {
        "churchId": "CH1",
        "conversationId": room["id"],
        "messageId": message["id"],
        "id": message["id"],
        "socketId": viewer.socket_id,
        "personId": "P1",
    }
    # A body each route could act on, were it declared JSON.
    body = orjson.dumps(
        [
            {
                "churchId": "CH1",
                "conversationId": room["id"],
                "socketId": viewer.socket_id,
                "content": "sneaky",
                "displayName": "Form",
                "contentType": "group",
                "contentId": "G1",
                "title": "t",
                "toPersonId": "P2",
                "emoji": "x",
                "ipAddress": "a",
                "name": "Form",
            }
        ]
    )
    before = await _row_counts(node)
    routes = _writing_routes(node, values)
    assert ("POST", "/messaging/messages/send") in routes and len(routes) >= 15
    for method, path in routes:
        for content_type in NOT_JSON:
            headers = HOST | ({"Content-Type": content_type} if content_type else {})
            response = await site.request(method, path, content=body, headers=headers)
            where = f"{method} {path} {content_type!r}"
            assert response.status_code == 415, where + " " + response.text
            assert "Content-Type must be application/json" in response.json()["error"], where
    assert await _row_counts(node) == before
    history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [m["content"] for m in history] == ["hello"]
    await http.aclose()


@pytest.mark.parametrize("content_type", JSON_TYPES)
async def test_json_types_with_parameters_and_suffixes_are_accepted(
    http: httpx.AsyncClient, content_type: str
) -> None:
    room = await live_room(http)
    body = b'[{"churchId":"CH1","conversationId":"%s","content":"ok","displayName":"A"}]' % (
        room["id"].encode()
    )
    response = await http.post(
        "/messages/send", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["content"] == "ok"


async def test_routes_without_a_body_still_take_an_empty_post(http: httpx.AsyncClient) -> None:
    me = auth("CH1", "P1")
    for headers in (me, me | {"Content-Type": "text/plain"}):
        response = await http.post("/notifications/markRead/CH1/P1", headers=headers)
        assert response.status_code == 200, response.text
    formed = await http.post(
        "/notifications/markRead/CH1/P1",
        content=b"a=1",
        headers=me | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert formed.status_code == 415
    empty = await http.post("/messages/send", headers={"Content-Type": "text/plain"})
    assert empty.status_code == 400 and "body is required" in empty.json()["error"]


async def test_the_python_client_sends_json(node: Node, http: httpx.AsyncClient) -> None:
    from steeple.client.rest import RestClient

    room = await live_room(http)
    async with RestClient(node.http_url + "/messaging") as client:
        await client.send_message("CH1", room["id"], "from python", "\u202ePy")
    history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
    assert [(m["content"], m["displayName"]) for m in history] == [("from python", "Py")]


# --- headers ------------------------------------------------------------------------


def _assert_every_response_headers(response: httpx.Response, where: str) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where


@pytest.mark.parametrize("path", ["/", "/stream/CH1/svc1", "/static/app.js", "/static/style.css"])
async def test_pages_refuse_framing(site: httpx.AsyncClient, path: str) -> None:
    response = await site.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";")}
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["script-src"] == "script-src 'self'"
    assert response.headers["x-frame-options"] == "DENY"
    _assert_every_response_headers(response, path)


async def test_every_kind_of_answer_carries_nosniff_and_referrer_policy(
    site: httpx.AsyncClient,
) -> None:
    room = (await site.get("/messaging/conversations/current/CH1/streamingLive/svc1")).json()
    answers = {
        "rest": await site.get(f"/messaging/messages/catchup/CH1/{room['id']}"),
        "post": await site.post(
            "/messaging/messages/send",
            json=[{"churchId": "CH1", "conversationId": room["id"], "content": "x"}],
        ),
        "400": await site.get("/messaging/messages/catchup/CH1/bad.id"),
        "401": await site.get("/messaging/conversations/posts"),
        "404 route": await site.get("/no/such/route"),
        "404 asset": await site.get("/static/missing.js"),
        "405": await site.put("/messaging/messages/send"),
        "415": await site.post("/messaging/messages/send", content=b"[]"),
        "health": await site.get("/health"),
        "metrics": await site.get("/metrics"),
        "config": await site.get("/stream/config"),
        "preflight": await site.options(
            "/messaging/messages/send",
            headers={
                "Origin": "https://app.example.church",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ),
    }
    expected = {"400": 400, "401": 401, "404 route": 404, "404 asset": 404, "405": 405}
    expected |= {"415": 415}
    for name, response in answers.items():
        assert response.status_code == expected.get(name, 200), (name, response.text)
        _assert_every_response_headers(response, name)
    assert "content-security-policy" not in answers["rest"].headers
    assert answers["preflight"].headers["access-control-allow-origin"] in (
        "*",
        "https://app.example.church",
    )
