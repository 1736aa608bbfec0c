"""The page routes over plain HTTP: content types, the socket config, no path traversal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.node import Node
from steeple.web.routes.pages import STATIC_DIR


@pytest.fixture
async def site(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=node.http_url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/stream/CH1/svc1", "/STREAM/church-9/live_1"])
async def test_page_paths_serve_the_chat_page(site: httpx.AsyncClient, path: str) -> None:
    response = await site.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/static/main.js"></script>' in response.text


@pytest.mark.parametrize("path", ["/stream/CH1/service-id-too-long", "/stream/bad%20id/svc1"])
async def test_a_malformed_stream_path_is_a_400(site: httpx.AsyncClient, path: str) -> None:
    response = await site.get(path)
    assert response.status_code == 400
    assert "in the path is not a valid id" in response.json()["error"]


async def test_every_asset_the_page_references_is_served_with_its_type(
    site: httpx.AsyncClient,
) -> None:
    page = (await site.get("/")).text
    names = set(re.findall(r'"/static/([^"]+)"', page))
    for script in STATIC_DIR.glob("*.js"):
        names |= set(re.findall(r'from "\./([^"]+)"', script.read_text()))
    referenced = {"main.js", "app.js", "chatview.js", "style.css", "favicon.svg", "socket.js"}
    assert referenced | {"room.js"} <= names
    expected = {
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }
    for name in sorted(names):
        response = await site.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == expected[name[name.rindex(".") :]], name


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fapp.py",
        "%2E%2E%2F%2E%2E%2Fnode.py",
        "..%5Croutes%5Cpages.py",
        ".hidden",
        "%2Fetc%2Fpasswd",
        "index.html%00.js",
        "missing.js",
        "pages.py",
        "%2E%2E",
    ],
)
async def test_assets_outside_the_static_folder_are_not_found(
    site: httpx.AsyncClient, name: str
) -> None:
    response = await site.get(httpx.URL(f"/static/{name}"))
    assert response.status_code == 404
    assert response.json()["error"]


async def test_the_page_learns_the_socket_port(node: Node, site: httpx.AsyncClient) -> None:
    response = await site.get("/stream/config")
    assert response.status_code == 200
    assert response.json() == {"socketPort": node.socket_port, "sameOrigin": False}
    assert node.socket_port not in (0, node.http_port)
