"""Every registered route, fed garbage: a 4xx (or 200) with a JSON body, never a 5xx."""

from __future__ import annotations

import httpx
import pytest

from steeple.node import Node
from tests.support.nodes import auth

BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"{}",
    b"[1, 2]",
    b'"text"',
    b"[{}]",
    b'[{"churchId": 5}]',
    b'{"socketId": ["x"], "name": {"a": 1}}',
    b'[{"conversationId": "../../etc"}]',
    b'{"emoji": ""}',
    b'[{"content": "\\u0000"}]',
    '[{"churchId": "é"}]'.encode(),
]
PARAMS = ["x", "..", "%2F%2F", "a" * 300, "%00", "%E2%98%83", "CH1"]


def _paths(node: Node) -> list[tuple[str, str]]:
    found = []
    for route in node.router.routes():
        for value in PARAMS:
            path = "/" + "/".join(value if s.startswith(":") else s for s in route.segments)
            found.append((route.method, path))
    return found


@pytest.mark.parametrize("signed_in", [False, True])
async def test_no_route_answers_5xx_to_garbage(node: Node, signed_in: bool) -> None:
    permissions = ["Content__Edit", "Chat__Host", "Messaging__Admin"]
    headers = auth("CH1", "P1", permissions=permissions) if signed_in else {}
    headers["content-type"] = "application/json"
    async with httpx.AsyncClient(base_url=node.http_url, timeout=10) as client:
        for method, path in _paths(node):
            bodies = BODIES if method in ("POST", "PUT") else [b""]
            for body in bodies:
                response = await client.request(method, path, content=body, headers=headers)
                where = f"{method} {path} {body[:40]!r}"
                assert response.status_code < 500, where + " " + response.text
                if response.headers.get("content-type", "").startswith("application/json"):
                    response.json()
                elif response.status_code >= 400:
                    raise AssertionError(f"{where}: non-JSON error {response.text[:80]}")
        assert (await client.get("/health")).status_code == 200
