"""The rooms, messages and sockets the authorization matrix probes, built once per database.

Every conversation kind of ``authz_table`` is made the way a ChurchApps client makes it
(live room through ``current``, host room through host chat, group rooms and notes by
``POST /conversations``, a private thread by a conversation then ``/privateMessages``).
Each readable thing carries a per-kind marker (``World.marker``), so any response that
shows a marker to a caller who may not read that kind is a leak, whatever route it
came through.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from steeple.node import Node
from tests.e2e.authz_table import (
    AUTHOR,
    CALLERS,
    CHURCH,
    CONTENT,
    CONVERSATION_KINDS,
    GROUP,
    READERS,
    SERVICE,
    Caller,
)
from tests.support.wsclient import TestSocket

UPDATE_SERVICE = "svcU"
SYNTHETIC_ROOM = f"content-group-{GROUP}"
# A signed-in reader of each room, whose socket sits in it for the whole module.
RESIDENT = {**AUTHOR, "synthetic": "group_member", "alerts": "member"}


@dataclass
class World:
    node: Node
    http: httpx.AsyncClient  # base /messaging
    root: httpx.AsyncClient  # base / (host chat is under /content)
    marker: dict[str, str] = field(default_factory=dict)
    conversation: dict[str, dict[str, Any]] = field(default_factory=dict)
    update_target: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_room: dict[str, str] = field(default_factory=dict)  # service -> encrypted id
    thread: dict[str, Any] = field(default_factory=dict)
    secret: dict[str, dict[str, Any]] = field(default_factory=dict)
    edit_target: dict[str, dict[str, Any]] = field(default_factory=dict)
    delete_target: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    socket: dict[str, TestSocket] = field(default_factory=dict)
    resident: dict[str, TestSocket] = field(default_factory=dict)

    # --- talking to the node -----------------------------------------------------------

    async def call(self, caller: Caller, method: str, url: str, json: Any = None) -> httpx.Response:
        """One request as ``caller``; fails on any marker the caller may not see."""
        response = await self.http.request(method, url, json=json, headers=caller.headers())
        # A marker the caller itself sent (an edit, a rename) is not a leak.
        sent = orjson.dumps(json).decode()
        self.assert_no_leak(caller, response.text, f"{method} {url}", known=sent)
        return response

    def assert_no_leak(self, caller: Caller, text: str, where: str, known: str = "") -> None:
        for kind, marker in self.marker.items():
            if caller.name not in READERS[kind] and marker not in known:
                assert marker not in text, f"{where} showed {caller.name} a {kind} secret"

    def room_id(self, kind: str) -> str:
        if kind == "synthetic":
            return SYNTHETIC_ROOM
        if kind == "alerts":
            return "alerts"
        return str(self.conversation[kind]["id"])

    def content_path(self, kind: str) -> str:
        """``{contentType}/{contentId}`` of the kind, as ``current`` wants it."""
        content_type, content_id = CONTENT[kind]
        if kind == "host":
            content_id = quote(self.host_room[SERVICE], safe="")
        return f"{content_type}/{content_id}"


def headers(name: str) -> dict[str, str]:
    return CALLERS[name].headers()


async def expect_ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.text}"
    return response.json()


async def build(node: Node) -> World:
    http = httpx.AsyncClient(base_url=node.http_url + "/messaging", timeout=10)
    root = httpx.AsyncClient(base_url=node.http_url, timeout=10)
    world = World(node=node, http=http, root=root)
    world.marker = {kind: f"secret{kind}{secrets.token_hex(6)}" for kind in CONVERSATION_KINDS}
    for kind in CONVERSATION_KINDS:
        world.conversation[kind] = await _make(world, kind, SERVICE)
        world.update_target[kind] = (
            world.conversation[kind] if kind == "pm" else await _make(world, kind, UPDATE_SERVICE)
        )
    world.thread = await _open_thread(world)
    for kind in CONVERSATION_KINDS:
        await _write(world, kind)
    for name in CALLERS:
        world.socket[name] = await TestSocket.connect(node.socket_url)
    for kind, reader in RESIDENT.items():
        world.resident[kind] = await TestSocket.connect(node.socket_url)
        body = [
            {
                "churchId": CHURCH,
                "conversationId": world.room_id(kind),
                "socketId": world.resident[kind].socket_id,
                "displayName": reader,
            }
        ]
        await expect_ok(await http.post("/connections", json=body, headers=headers(reader)))
    return world


async def close(world: World) -> None:
    for socket in (*world.socket.values(), *world.resident.values()):
        await socket.close()
    await world.http.aclose()
    await world.root.aclose()


async def _make(world: World, kind: str, service: str) -> dict[str, Any]:
    """A conversation of ``kind``, made by its author the way clients make it."""
    http, marker = world.http, world.marker[kind]
    if kind == "live":
        return dict(
            await expect_ok(
                await http.get(f"/conversations/current/{CHURCH}/streamingLive/{service}")
            )
        )
    if kind == "host":
        host = headers("host")
        chat = await expect_ok(
            await world.root.get(f"/content/streamingServices/{service}/hostChat", headers=host)
        )
        world.host_room[service] = chat["room"]
        path = f"/conversations/current/{CHURCH}/streamingLiveHost/{quote(chat['room'], safe='')}"
        return dict(await expect_ok(await http.get(path, headers=host)))
    content_type, content_id = CONTENT[kind]
    entry: dict[str, Any] = {
        "contentType": content_type,
        "contentId": content_id,
        "title": f"{kind} {service} {marker}",
    }
    if kind in ("group", "announcement"):
        entry["groupId"] = GROUP
    if kind in ("notes", "confidential", "pm"):
        entry.update(visibility="hidden", allowAnonymousPosts=False)
    saved = await expect_ok(
        await http.post("/conversations", json=[entry], headers=headers(AUTHOR[kind]))
    )
    return dict(saved[0])


async def _open_thread(world: World) -> dict[str, Any]:
    body = [{"toPersonId": CONTENT["pm"][1], "conversationId": world.conversation["pm"]["id"]}]
    response = await world.http.post("/privateMessages", json=body, headers=headers("thread_a"))
    return dict((await expect_ok(response))[0])


async def _write(world: World, kind: str) -> None:
    """The kind's secret, the message edits target, and one message per deleter cell."""
    world.secret[kind] = await _post(world, kind, f"{world.marker[kind]} the secret")
    world.edit_target[kind] = await _post(world, kind, f"{world.marker[kind]} to be edited")
    for name in CALLERS:
        content = f"{world.marker[kind]} for {name} to delete"
        world.delete_target[(kind, name)] = await _post(world, kind, content)


async def _post(world: World, kind: str, content: str) -> dict[str, Any]:
    body = [{"conversationId": world.conversation[kind]["id"], "content": content}]
    response = await world.http.post("/messages", json=body, headers=headers(AUTHOR[kind]))
    return dict((await expect_ok(response))[0])
