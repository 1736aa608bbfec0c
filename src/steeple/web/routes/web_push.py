"""``/messaging/webpush``: the VAPID public key and browser subscriptions.

Subscription problems answer ``{success:false, error:"invalid subscription"}`` (HTTP
400), the shape B1App checks, with ``detail`` naming the problem.
"""

from __future__ import annotations

from typing import Any

from steeple.errors import BadRequest
from steeple.protocol.frames import dumps
from steeple.services.web_push import WebPushService
from steeple.types import ID_LENGTH
from steeple.web.app import Raw
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/webpush"


def register(router: Router, web_push: WebPushService) -> None:
    @router.route("GET", BASE + "/publicKey")
    async def public_key(call: Call) -> Any:
        return web_push.public_key()

    @router.route("POST", BASE + "/subscribe")
    async def subscribe(call: Call) -> Any:
        try:
            return await web_push.subscribe(call.principal, call.json())
        except BadRequest as exc:
            return _refused("invalid subscription", exc)

    @router.route("POST", BASE + "/unsubscribe")
    async def unsubscribe(call: Call) -> Any:
        try:
            return await web_push.unsubscribe(call.json())
        except BadRequest as exc:
            return _refused("invalid endpoint", exc)

    @router.route("DELETE", BASE + "/subscription/:id")
    async def delete(call: Call) -> Any:
        await web_push.delete(call.principal, call.path_id("id", ID_LENGTH))
        return {"success": True}


def _refused(error: str, exc: BadRequest) -> Raw:
    body = {"success": False, "error": error, "detail": exc.problem}
    return Raw(dumps(body), "application/json", 400)
