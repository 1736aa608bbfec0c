"""ChurchApps web apps call the API from another origin: CORS preflight and headers."""

from __future__ import annotations

import httpx

from steeple.node import Node

ORIGIN = "https://app.example.church"


async def test_preflight_allows_a_bearer_token_from_another_origin(node: Node) -> None:
    async with httpx.AsyncClient(base_url=node.http_url) as client:
        response = await client.options(
            "/messaging/messages/send",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_answers_and_denials_carry_the_cors_header(node: Node) -> None:
    async with httpx.AsyncClient(base_url=node.http_url) as client:
        ok = await client.get("/health", headers={"Origin": ORIGIN})
        denied = await client.get("/messaging/conversations/posts", headers={"Origin": ORIGIN})
    assert ok.headers["access-control-allow-origin"] == "*"
    assert denied.status_code == 401 and denied.json() == []
    assert denied.headers["access-control-allow-origin"] == "*"
