"""The Lambda handlers that ``deploy/aws/template.yaml`` names.

Lambda imports this module once per container and then calls a handler per event,
so the runtime is built on the first event and kept by the warm container. The
cache below is that container's composition root; it is module state only because
Lambda's contract is a bare function.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from steeple.aws.http import HttpFunction
from steeple.aws.runtime import LambdaRuntime
from steeple.aws.websocket import WebSocketFunction
from steeple.settings import Settings


@cache
def runtime() -> LambdaRuntime:
    return LambdaRuntime(Settings.from_env())


@cache
def _http_function() -> HttpFunction:
    return HttpFunction(runtime())


@cache
def _websocket_function() -> WebSocketFunction:
    return WebSocketFunction(runtime())


def http(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REST API (Lambda proxy) events: the messaging and content routes."""
    return _http_function()(event, context)


def websocket(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """WebSocket API route events, and the scheduled stale-row sweep."""
    return _websocket_function()(event, context)
