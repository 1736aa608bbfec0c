"""Bad input: a 4xx with a JSON body naming the problem, never a 500, nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from steeple.node import Node
from tests.support.nodes import auth, node_settings
from tests.support.wsclient import TestSocket

MEMBER = auth("CH1", "P1", group_ids=["G1"], leader_group_ids=["G1"])


@pytest.fixture
async def room(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/conversations/current/CH1/streamingLive/svc1")
    assert response.status_code == 200
    return dict(response.json())


def problem(response: httpx.Response, status: int, *words: str) -> str:
    """Assert a JSON error of ``status`` whose text mentions every word; return it."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    text = str(response.json()["error"])
    for word in words:
        assert word in text, text
    return text


def message(room: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"churchId": "CH1", "conversationId": room["id"], "content": "hi", "displayName": "Ann"}
    body.update(changes)
    return body


MALFORMED = [
    (b"{not json", ("JSON",)),
    (b"", ("JSON body is required",)),
    (b'[{"churchId": "CH1",]', ("JSON",)),
    (b"\xff\xfe garbage", ("JSON",)),
    (b"[" * 5000 + b"]" * 5000, ("JSON",)),
    (b'"\\ud800"', ("JSON",)),
]


async def test_malformed_json_is_400(http: httpx.AsyncClient) -> None:
    for raw, words in MALFORMED:
        for path in ("/connections", "/messages/send", "/connections/setName"):
            response = await http.post(
                path, content=raw, headers={"content-type": "application/json"}
            )
            problem(response, 400, *words)


async def test_wrong_shapes_are_400(http: httpx.AsyncClient, room: dict[str, Any]) -> None:
    problem(await http.post("/messages/send", json=message(room)), 400, "array")
    problem(await http.post("/connections", json={"socketId": "abc"}), 400, "array")
    problem(await http.post("/messages/send", json=[message(room), "text"]), 400, "body[1]")
    problem(await http.post("/connections/setName", json=[{"socketId": "x"}]), 400, "object")
    problem(await http.post("/messages/send", json=None), 400)
    problem(await http.post("/messages/send", json=[None]), 400, "body[0]")
    problem(await http.post("/messages", json={"content": "x"}, headers=MEMBER), 400, "array")
    problem(await http.post("/conversations", json="group", headers=MEMBER), 400, "array")


BAD_MESSAGE_FIELDS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"churchId": None}, ("churchId", "required")),
    ({"conversationId": ""}, ("conversationId", "required")),
    ({"content": None}, ("content", "required")),
    ({"content": 12}, ("content", "string")),
    ({"content": ["a"]}, ("content", "string")),
    ({"displayName": {"first": "Ann"}}, ("displayName", "string")),
    ({"churchId": 7}, ("churchId", "string")),
    ({"conversationId": "../../etc"}, ("conversationId", "valid id")),
    ({"conversationId": "ünïcödé"}, ("conversationId", "valid id")),
    ({"conversationId": "c" * 300}, ("conversationId",)),
    ({"messageType": 3}, ("messageType", "string")),
    ({"content": "nul\x00byte"}, ("content", "NUL")),
]


async def test_missing_and_wrongly_typed_message_fields(
    http: httpx.AsyncClient, room: dict[str, Any]
) -> None:
    for changes, words in BAD_MESSAGE_FIELDS:
        body = message(room, **changes)
        if changes.get("churchId", "") is None:
            del body["churchId"]
        problem(await http.post("/messages/send", json=[body]), 400, *words)


BAD_CONNECTION_FIELDS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"socketId": None}, ("socketId",)),
    ({"socketId": "s" * 300}, ("socketId",)),
    ({"socketId": 42}, ("socketId",)),
    ({"churchId": "CH/1"}, ("churchId",)),
    ({"displayName": 5}, ("displayName", "string")),
    ({"displayName": "n" * 101}, ("displayName", "longer")),
    ({"conversationId": "x" * 65}, ("conversationId",)),
]


async def test_bad_connection_entries(http: httpx.AsyncClient, room: dict[str, Any]) -> None:
    for changes, words in BAD_CONNECTION_FIELDS:
        body = {
            "churchId": "CH1",
            "conversationId": room["id"],
            "socketId": "abcdefghijk",
            "displayName": "Ann",
            **changes,
        }
        problem(await http.post("/connections", json=[body]), 400, *words)


async def test_oversized_input_is_413(http: httpx.AsyncClient, room: dict[str, Any]) -> None:
    megabyte = "x" * (1 << 20)
    problem(await http.post("/messages/send", json=[message(room, content=megabyte)]), 413)
    problem(
        await http.post("/messages/send", json=[message(room, content="y" * 40_000)]),
        413,
        "content",
        "longer",
    )
    many = [message(room)] * 501
    problem(await http.post("/messages/send", json=many), 413, "at most")

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted while read
        for _ in range(64):
            yield b" " * 16_384

    problem(await http.post("/messages/send", content=chunks()), 413)
    catchup = await http.get(f"/messages/catchup/CH1/{room['id']}")
    assert catchup.json() == []


ODD_PATHS = [
    "/messages/catchup/CH1/%2E%2E",
    "/messages/catchup/CH1/..%2F..%2Fetc",
    "/messages/catchup/%C3%A9glise/conv1",
    "/messages/catchup/CH1/" + "c" * 300,
    "/messages/CH1/a%00b",
    "/connections/CH1/%F0%9F%98%80",
    "/conversations/CH1/%20",
    "/conversations/messages/group/G1?page=-1",
    "/conversations/timeline/ids?ids=a,../b",
    "/conversations/current/CH1/streamingLive/" + "s" * 12,
    "/conversations/current/CH1/streamingLive/a%2Fb",
]


async def test_odd_ids_in_paths_are_400(http: httpx.AsyncClient) -> None:
    for path in ODD_PATHS:
        problem(await http.get(path, headers=MEMBER), 400)


async def test_bad_catchup_cursor_is_400(http: httpx.AsyncClient, room: dict[str, Any]) -> None:
    url = f"/messages/catchup/CH1/{room['id']}"
    problem(await http.get(url, params={"after": "../x"}), 400, "after")
    problem(await http.get(url, params={"after": "é"}), 400, "after")


async def test_raw_dot_segments_never_reach_another_route(node: Node) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.http_port)
    writer.write(
        b"GET /messaging/messages/catchup/CH1/../../health HTTP/1.1\r\n"
        b"Host: test\r\nConnection: close\r\n\r\n"
    )
    reply = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    assert reply.startswith(b"HTTP/1.1 4"), reply[:100]
    assert b'"error"' in reply


UNDECRYPTABLE = [
    "not-a-real-encrypted-id",
    "abc|def" * 3,
    "AAAAAAAAAAAAAAAAAAAAAA%3D%3D%7CAAAA",
    "%2B%2B%2B%2B%7C%2F%2F%2F%2F%2F%2F%2F",
    "AAECAwQFBgcICQoLDA0ODw%3D%3D%7C%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F",
]


async def test_undecryptable_host_chat_ids_are_4xx(http: httpx.AsyncClient) -> None:
    headers = auth("CH1", "P1", permissions=["Chat__Host"])
    for content_id in UNDECRYPTABLE:
        response = await http.get(
            f"/conversations/current/CH1/streamingLiveHost/{content_id}", headers=headers
        )
        assert response.status_code in (400, 401), (content_id, response.text)
        assert isinstance(response.json(), dict)


async def test_unknown_routes_and_methods(http: httpx.AsyncClient) -> None:
    problem(await http.get("/nothing/here"), 404, "no route")
    problem(await http.post("/messages/send/extra/more", json=[]), 404)
    problem(await http.put("/messages/send", json=[]), 405)
    response = await http.get("/")
    assert response.status_code == 404 and "error" in response.json()


async def test_bad_batches_store_nothing(
    node: Node, http: httpx.AsyncClient, room: dict[str, Any]
) -> None:
    sent = await http.post(  # signed in: an anonymous batch holds one message
        "/messages/send",
        json=[message(room, content="kept?"), message(room, content=42)],
        headers=MEMBER,
    )
    problem(sent, 400, "content")
    joined = await http.post(
        "/connections",
        json=[
            {"churchId": "CH1", "conversationId": room["id"], "socketId": "abcdefghijk"},
            {"churchId": "CH1", "conversationId": room["id"], "socketId": "bad id!"},
        ],
    )
    problem(joined, 400, "socketId")
    group = [
        {"contentType": "group", "contentId": "G1", "groupId": "G1", "title": "ok"},
        {"contentType": "group", "contentId": "G1", "allowAnonymousPosts": "maybe"},
    ]
    problem(
        await http.post("/conversations", json=group, headers=MEMBER), 400, "allowAnonymousPosts"
    )
    posted = await http.post(
        "/messages",
        headers=MEMBER,
        json=[
            {"conversationId": room["id"], "content": "fine"},
            {"conversationId": room["id"], "content": "x", "displayName": ["no"]},
        ],
    )
    problem(posted, 400, "displayName")
    missing = await http.post(
        "/messages/send",
        json=[message(room), message(room, conversationId="nope")],
        headers=MEMBER,
    )
    assert missing.status_code in (401, 404)

    assert await node.store.messages.in_conversation(room["id"]) == []
    assert await node.store.connections.in_room(("CH1", room["id"])) == []
    assert await node.store.conversations.for_content("CH1", "group", "G1") == []
    stored = await node.store.conversations.get(room["id"])
    assert stored is not None and stored["postCount"] == 0
    # ... and the server still serves.
    assert (await http.get(node.http_url + "/health")).status_code == 200
    ok = await http.post("/messages/send", json=[message(room, content="still here")])
    assert ok.status_code == 200
    assert [m["content"] for m in await node.store.messages.in_conversation(room["id"])] == [
        "still here"
    ]


async def test_text_edge_values_on_every_database(database_url: str) -> None:
    """NUL is refused before it reaches SQL; wide characters fit their columns everywhere."""
    running = Node(node_settings(database_url))
    await running.start()
    try:
        async with httpx.AsyncClient(base_url=running.http_url + "/messaging") as http:
            live = (await http.get("/conversations/current/CH1/streamingLive/svc1")).json()
            for field in ("content", "displayName"):
                refused = await http.post(
                    "/messages/send", json=[message(live, **{field: "a\x00b"})]
                )
                problem(refused, 400, field, "NUL")
            wide = "🙏" * 100
            viewer = await TestSocket.connect(running.socket_url)
            joined = await http.post(
                "/connections",
                json=[
                    {
                        "churchId": "CH1",
                        "conversationId": live["id"],
                        "socketId": viewer.socket_id,
                        "displayName": wide,
                    }
                ],
            )
            assert joined.status_code == 200, joined.text
            await viewer.close()
            saved = await http.post(
                "/messages/send", json=[message(live, displayName=wide, content=wide * 80)]
            )
            assert saved.status_code == 200, saved.text
            assert saved.json()[0]["displayName"] == "🙏" * 45
            created = await http.post(
                "/conversations",
                headers=MEMBER,
                json=[
                    {"contentType": "group", "contentId": "G1", "groupId": "G1", "title": "✝" * 255}
                ],
            )
            assert created.status_code == 200, created.text
            assert [
                m["content"] for m in (await http.get(f"/messages/catchup/CH1/{live['id']}")).json()
            ] == [wide * 80]
    finally:
        await running.stop()
