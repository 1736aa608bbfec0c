"""``/health`` (and its liveness and readiness forms) and ``/metrics``.

``/health`` and ``/health/ready`` answer 200 while this node can serve its sockets and
its database ("send traffic here"), 503 otherwise, with the same report as the body.
``/health/live`` answers 200 whenever the process answers at all: a restart would not
bring a database back, so liveness never depends on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from steeple.protocol.frames import dumps
from steeple.web.app import Raw
from steeple.web.call import Call
from steeple.web.router import Router

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


def register(router: Router, health: HealthCheck, registry: CollectorRegistry) -> None:
    @router.route("GET", "/health")
    async def healthy(call: Call) -> Any:
        report = await health()
        status = 200 if report["ok"] else 503
        return Raw(dumps(report), "application/json", status)

    router.route("GET", "/health/ready")(healthy)

    @router.route("GET", "/health/live")
    async def alive(call: Call) -> Any:
        return {"ok": True}

    @router.route("GET", "/metrics")
    async def metrics(call: Call) -> Any:
        return Raw(generate_latest(registry), CONTENT_TYPE_LATEST)
