"""The HTTP function: API Gateway (REST API, Lambda proxy) events through Mangum.

The web app is the one every mode serves. One thing is restored on the way in:
Mangum hands the app a percent-decoded path, but steeple routes on the raw path
(an encrypted host-chat id carries ``%2F`` inside one segment), so the path is taken
from the event again. API Gateway REST APIs pass it still encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mangum import Mangum
from starlette.types import Receive, Scope, Send

from steeple.aws.runtime import LambdaRuntime

_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class HttpFunction:
    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime
        runtime.enter()
        self._adapter = Mangum(self._app, lifespan="off")

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._runtime.enter()
        return self._adapter(event, context)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._runtime.node.app
        await self._runtime.invoke(app(with_raw_path(scope), receive, send))


def with_raw_path(scope: Scope) -> Scope:
    """The scope with ``raw_path`` taken from the API Gateway event."""
    event = scope.get("aws.event") or {}
    path = event.get("path") if "httpMethod" in event else event.get("rawPath")
    if not isinstance(path, str) or not path:
        return scope
    return {**scope, "raw_path": quote(path, safe=_PATH_SAFE).encode("ascii")}
