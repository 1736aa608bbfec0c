"""The live-stream chat page (``/``, ``/stream/:churchId/:serviceId``) and its assets.

The page is plain HTML, CSS and JavaScript modules shipped inside the package, so a
Steeple node is a complete, dependency-free chat site. It speaks only the public
protocol; the one thing it cannot learn from the protocol is where the socket
listener is, which ``/stream/config`` tells it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steeple.errors import NotFound
from steeple.types import ID_LENGTH
from steeple.web.app import Raw
from steeple.web.call import Call
from steeple.web.router import Router
from steeple.web.security_headers import PAGE_HEADERS

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

# One flat folder, names without separators or leading dots: "..", "%2F" and
# absolute paths never match, whatever the router decoded.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+")


class StaticFiles:
    """Assets of one folder, looked up by exact file name."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def load(self, name: str) -> Raw:
        if not _ASSET_NAME.fullmatch(name):
            raise NotFound(f"no asset named {name!r}")
        media_type = CONTENT_TYPES.get(Path(name).suffix.lower())
        path = (self._root / name).resolve()
        if media_type is None or path.parent != self._root or not path.is_file():
            raise NotFound(f"no asset named {name!r}")
        return Raw(path.read_bytes(), media_type, headers=PAGE_HEADERS)


def socket_config(socket_port: int, self_hosted: bool) -> dict[str, Any]:
    """Where the browser finds the socket listener.

    Only the port is given: the page combines it with the host name it was loaded
    from (the request's ``Host``), so a node bound to 0.0.0.0 works from any address.
    In single-port mode the socket shares the page's origin, proxies included.
    """
    return {"socketPort": socket_port, "sameOrigin": self_hosted}


def register(
    router: Router,
    socket_port: Callable[[], int],
    self_hosted: bool,
    assets: StaticFiles | None = None,
) -> None:
    files = assets or StaticFiles(STATIC_DIR)

    @router.route("GET", "/")
    async def home(call: Call) -> Any:
        return files.load("index.html")

    @router.route("GET", "/stream/:churchId/:serviceId")
    async def stream(call: Call) -> Any:
        call.path_id("churchId")
        call.path_id("serviceId", ID_LENGTH)
        return files.load("index.html")

    @router.route("GET", "/stream/config")
    async def config(call: Call) -> Any:
        return socket_config(socket_port(), self_hosted)

    @router.route("GET", "/static/:name")
    async def asset(call: Call) -> Any:
        return files.load(call.params["name"])
