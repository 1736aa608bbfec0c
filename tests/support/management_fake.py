"""A stand-in for one stage of the API Gateway Management API, on a loopback port.

moto implements the three calls but treats every connection id as live; this fake
holds a set of live connections and answers 410 ``GoneException`` for any other id,
as API Gateway does. It accepts SigV4-signed requests only (the signature itself is
not checked), and can make chosen connections slow (the answer waits until the fake
stops, so the client's read timeout fires) or failing (500), or hold every post
until the test lets it through (to see how many the client has in flight).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import orjson

CONNECTION_INFO = {
    "connectedAt": "2024-05-01T10:00:00.000Z",
    "lastActiveAt": "2024-05-01T10:00:01.000Z",
    "identity": {"sourceIp": "203.0.113.7", "userAgent": "steeple-tests"},
}


class FakeManagementApi:
    """``POST/GET/DELETE /{stage}/@connections/{id}``; records what each id was sent."""

    def __init__(self, stage: str = "test") -> None:
        self.stage = stage
        self.slow: set[str] = set()
        self.failing: set[str] = set()
        self.holding = False
        self.waiting = 0
        self._tickets = 0
        self.unsigned = 0
        self.attempts: dict[str, int] = {}
        self.max_in_flight = 0
        self.counting: bytes = b""
        """Only posts whose body holds these bytes count towards ``max_in_flight``."""
        self._live: set[str] = set()
        self._posted: dict[str, list[bytes]] = {}
        self._in_flight = 0
        self._changed = threading.Condition()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The API's URL without the stage, as ``APIGATEWAY_ENDPOINT`` holds it."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeManagementApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.grant(1 << 20)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- what API Gateway knows ------------------------------------------------------

    def connect(self, connection_id: str) -> None:
        with self._changed:
            self._live.add(connection_id)

    def disconnect(self, connection_id: str) -> None:
        with self._changed:
            self._live.discard(connection_id)

    def is_live(self, connection_id: str) -> bool:
        with self._changed:
            return connection_id in self._live

    def posted(self, connection_id: str) -> list[bytes]:
        with self._changed:
            return list(self._posted.get(connection_id, ()))

    def wait_for_post(self, connection_id: str, count: int, timeout: float) -> bool:
        """Wait until more than ``count`` frames were posted to the id."""
        with self._changed:
            return self._changed.wait_for(
                lambda: len(self._posted.get(connection_id, ())) > count, timeout
            )

    # --- holding posts until the test lets them through ------------------------------

    def grant(self, count: int) -> None:
        """Let ``count`` held posts through."""
        with self._changed:
            self._tickets += count
            self._changed.notify_all()

    def wait_for_waiting(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.waiting >= count, timeout)

    def _take_ticket(self) -> None:
        with self._changed:
            self.waiting += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._tickets > 0, 30)
            self._tickets -= 1
            self.waiting -= 1

    # --- request handling ------------------------------------------------------------

    @contextmanager
    def _counted(self, body: bytes) -> Iterator[None]:
        if self.counting not in body:
            yield
            return
        with self._changed:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        connection_id = self._connection_id(path)
        if connection_id is None:
            return 404, orjson.dumps({"message": f"no route for {path}"})
        if not _signed(headers):
            self.unsigned += 1
            return 403, orjson.dumps({"message": "Missing Authentication Token"})
        with self._changed:
            if method == "POST":
                self.attempts[connection_id] = self.attempts.get(connection_id, 0) + 1
        with self._counted(body):
            if method == "POST" and self.holding:
                self._take_ticket()
            if connection_id in self.slow:
                self._release.wait(30)
            if connection_id in self.failing:
                return 500, orjson.dumps({"message": "Internal server error"})
            return self._apply(method, connection_id, body)

    def _apply(self, method: str, connection_id: str, body: bytes) -> tuple[int, bytes]:
        with self._changed:
            if connection_id not in self._live:
                return 410, b'{"message":null}'
            if method == "POST":
                self._posted.setdefault(connection_id, []).append(body)
                self._changed.notify_all()
                return 200, b""
            if method == "DELETE":
                self._live.discard(connection_id)
                return 204, b""
            return 200, orjson.dumps(CONNECTION_INFO)

    def _connection_id(self, path: str) -> str | None:
        prefix = f"/{self.stage}/@connections/" if self.stage else "/@connections/"
        if not path.startswith(prefix) or "/" in path[len(prefix) :]:
            return None
        return unquote(path[len(prefix) :]) or None


def _signed(headers: Any) -> bool:
    authorization = headers.get("Authorization", "")
    return (
        authorization.startswith("AWS4-HMAC-SHA256 Credential=")
        and "/execute-api/aws4_request" in authorization
        and bool(headers.get("X-Amz-Date"))
    )


ERROR_TYPES = {
    403: "ForbiddenException",
    404: "NotFoundException",
    410: "GoneException",
    500: "InternalServerErrorException",
}


def _handler(api: FakeManagementApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer = api.answer(self.command, self.path, self.headers, body)
            try:
                self.send_response(status)
                if status in ERROR_TYPES:
                    self.send_header("x-amzn-ErrorType", ERROR_TYPES[status])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the client gave up (a slow connection timed out)
                self.close_connection = True

        do_POST = do_GET = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests assert on what the fake recorded."""

    return Handler
