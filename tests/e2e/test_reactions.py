"""Reactions: toggled per (message, person, emoji), announced to the room."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.alert_steps import is_json_error
from tests.support.nodes import auth
from tests.support.steps import group_room, join, post

JSON = {"Content-Type": "application/json"}


def member(person: str, church: str = "CH1") -> dict[str, str]:
    return auth(church, person, group_ids=["G1"])


async def react(
    http: httpx.AsyncClient, message: dict[str, Any], emoji: str, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(
        f"/messages/{message['id']}/reactions", json={"emoji": emoji}, headers=headers
    )


async def summary(http: httpx.AsyncClient, person: str) -> list[Any]:
    response = await http.get("/conversations/messages/group/G1", headers=member(person))
    assert response.status_code == 200, response.text
    return list(response.json()[0]["messages"][0]["reactions"])


async def test_reactions_go_on_and_off_with_frames(http: httpx.AsyncClient, sockets: Any) -> None:
    room = await group_room(http)
    watcher = await sockets()
    await join(http, watcher, room, "Ann", member("P1"))
    message = await post(http, room, "good news", member("P1"))

    on = await react(http, message, "🙏", member("P2"))
    assert on.status_code == 200
    assert on.json() == {"messageId": message["id"], "emoji": "🙏", "added": True}
    frame = await watcher.next("reaction")
    assert frame["conversationId"] == room["id"]
    assert frame["data"] == {
        "messageId": message["id"],
        "conversationId": room["id"],
        "personId": "P2",
        "emoji": "🙏",
        "added": True,
    }
    await react(http, message, "🙏", member("P3"))
    await react(http, message, "❤️", member("P3"))
    assert await summary(http, "P2") == [
        {"emoji": "🙏", "count": 2, "mine": True},
        {"emoji": "❤️", "count": 1, "mine": False},
    ]
    assert await summary(http, "P1") == [
        {"emoji": "🙏", "count": 2, "mine": False},
        {"emoji": "❤️", "count": 1, "mine": False},
    ]

    off = await react(http, message, "🙏", member("P2"))
    assert off.json()["added"] is False
    frames = [await watcher.next("reaction") for _ in range(3)]
    assert [(f["data"]["personId"], f["data"]["added"]) for f in frames] == [
        ("P3", True),
        ("P3", True),
        ("P2", False),
    ]
    assert await summary(http, "P2") == [
        {"emoji": "🙏", "count": 1, "mine": False},
        {"emoji": "❤️", "count": 1, "mine": False},
    ]


async def test_bad_input_is_a_4xx_with_json(http: httpx.AsyncClient) -> None:
    room = await group_room(http)
    message = await post(http, room, "hello", member("P1"))
    url = f"/messages/{message['id']}/reactions"
    cases = [
        (await http.post(url, json={}, headers=member("P2")), 400),
        (await http.post(url, json={"emoji": ""}, headers=member("P2")), 400),
        (await http.post(url, json={"emoji": 5}, headers=member("P2")), 400),
        (await http.post(url, json={"emoji": "x" * 51}, headers=member("P2")), 400),
        (await http.post(url, json=["👍"], headers=member("P2")), 400),
        (await http.post(url, content=b"{", headers=member("P2") | JSON), 400),
        (await http.post(url, content=b"{", headers=member("P2")), 415),
        (
            await http.post(
                "/messages/nosuchmessg/reactions", json={"emoji": "👍"}, headers=member("P2")
            ),
            404,
        ),
        (
            await http.post(
                "/messages/bad.id/reactions", json={"emoji": "👍"}, headers=member("P2")
            ),
            400,
        ),
        (await http.post(url, json={"emoji": "👍"}), 401),
        (await http.post(url, json={"emoji": "👍"}, headers=auth("CH1", "P5")), 401),
        (await http.post(url, json={"emoji": "👍"}, headers=member("P2", "CH2")), 404),
    ]
    for response, status in cases:
        assert is_json_error(response, status), (response.request.url, response.text)
    assert await summary(http, "P1") == []
