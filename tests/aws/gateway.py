"""API Gateway in front of the two Lambda functions, for tests.

Each function runs in its own "container": a thread of its own holding a
:class:`LambdaRuntime`, invoked one event at a time, as Lambda does. REST calls go
through an httpx transport that turns requests into REST API events, so the local
end-to-end helpers work unchanged; a socket is a connection id whose frames are
whatever the Management API stand-in received for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx

from steeple.aws.http import HttpFunction
from steeple.aws.runtime import LambdaRuntime
from steeple.aws.websocket import WebSocketFunction
from steeple.settings import Settings
from tests.aws.events import rest_event, websocket_event
from tests.support.apigateway import Connections, ConnectionSocket, new_connection_id

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
T = TypeVar("T")


class Container:
    """One warm Lambda container: one runtime, one thread, one event at a time."""

    def __init__(
        self, thread: ThreadPoolExecutor, runtime: LambdaRuntime, handler: Handler
    ) -> None:
        self._thread = thread
        self.runtime = runtime
        self._handler = handler

    @classmethod
    async def start(
        cls, settings: Settings, function: Callable[[LambdaRuntime], Handler]
    ) -> Container:
        thread = ThreadPoolExecutor(1, thread_name_prefix="lambda")

        def build() -> tuple[LambdaRuntime, Handler]:
            runtime = LambdaRuntime(settings)
            return runtime, function(runtime)

        runtime, handler = await asyncio.wrap_future(thread.submit(build))
        return cls(thread, runtime, handler)

    async def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.wrap_future(self._thread.submit(self._handler, event, None))

    async def run(self, work: Callable[[LambdaRuntime], Coroutine[Any, Any, T]]) -> T:
        """Run ``work(runtime)`` inside the container, as an invocation would."""

        def invocation() -> T:
            return self.runtime.run(work(self.runtime))

        return await asyncio.wrap_future(self._thread.submit(invocation))

    async def stop(self) -> None:
        await asyncio.wrap_future(self._thread.submit(self.runtime.close))
        self._thread.shutdown()


class LambdaTransport(httpx.AsyncBaseTransport):
    """httpx requests in, REST API events to the HTTP function, its answers back out."""

    def __init__(self, container: Container) -> None:
        self._container = container

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        headers = {k.decode(): v.decode() for k, v in request.headers.raw}
        event = rest_event(
            request.method, request.url.raw_path.decode().partition("?")[0], query, headers, body
        )
        answer = await self._container.invoke(event)
        content = answer.get("body") or ""
        return httpx.Response(
            answer["statusCode"],
            headers=answer.get("headers") or {},
            content=content.encode(),
            request=request,
        )


class Gateway:
    """The HTTP and WebSocket functions behind one API Gateway."""

    def __init__(self, http: Container, websocket: Container, connections: Connections) -> None:
        self.http = http
        self.websocket = websocket
        self.connections = connections

    @classmethod
    async def start(cls, settings: Settings, connections: Connections) -> Gateway:
        http = await Container.start(settings, HttpFunction)
        websocket = await Container.start(settings, WebSocketFunction)
        return cls(http, websocket, connections)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=LambdaTransport(self.http), base_url="https://api.test/messaging", timeout=30
        )

    async def open_socket(self) -> GatewaySocket:
        connection_id = new_connection_id()
        self.connections.connect(connection_id)
        assert (await self.websocket.invoke(websocket_event("$connect", connection_id)))[
            "statusCode"
        ] == 200
        socket = GatewaySocket(self, connection_id)
        await socket.send("getId")
        socket.socket_id = (await socket.next("socketId"))["data"]
        return socket

    async def stop(self) -> None:
        await self.http.stop()
        await self.websocket.stop()


class GatewaySocket(ConnectionSocket):
    """A browser's WebSocket as the server sees it through API Gateway: a connection
    whose frames are read back from the Management API stand-in, and which sends
    through ``$default`` and closes through ``$disconnect``."""

    def __init__(self, gateway: Gateway, connection_id: str) -> None:
        super().__init__(gateway.connections, connection_id)
        self.gateway = gateway
        self.socket_id = ""

    async def send(self, text: str) -> None:
        event = websocket_event("$default", self.connection_id, text)
        assert (await self.gateway.websocket.invoke(event))["statusCode"] == 200

    async def close(self) -> None:
        """The browser closes: API Gateway forgets the id, then calls ``$disconnect``."""
        self.gateway.connections.disconnect(self.connection_id)
        event = websocket_event("$disconnect", self.connection_id)
        assert (await self.gateway.websocket.invoke(event))["statusCode"] == 200
