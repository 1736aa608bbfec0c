"""``/messaging/connections``."""

from __future__ import annotations

from typing import Any

from steeple.services.connections import ConnectionService
from steeple.validation import path_socket_id
from steeple.web.call import Call
from steeple.web.router import Router


def register(router: Router, connections: ConnectionService) -> None:
    @router.route("POST", "/messaging/connections")
    async def join(call: Call) -> Any:
        return await connections.join(call.principal, call.json(), call.address)

    @router.route("POST", "/messaging/connections/setName")
    async def set_name(call: Call) -> Any:
        return await connections.set_name(call.principal, call.json(), call.address)

    @router.route("GET", "/messaging/connections/:churchId/:conversationId", returns_list=True)
    async def in_room(call: Call) -> Any:
        return await connections.in_room(call.principal, _room(call))

    @router.route("DELETE", "/messaging/connections/:churchId/:conversationId/:socketId")
    async def leave(call: Call) -> Any:
        socket_id = path_socket_id(call.params["socketId"])
        await connections.leave(call.principal, _room(call), socket_id)
        return {"success": True}


def _room(call: Call) -> tuple[str, str]:
    return (call.path_id("churchId"), call.path_id("conversationId"))
