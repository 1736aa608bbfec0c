"""``/messaging/privateMessages``."""

from __future__ import annotations

from typing import Any

from steeple.services.private_messages import PrivateMessageService
from steeple.types import ID_LENGTH
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/privateMessages"


def register(router: Router, threads: PrivateMessageService) -> None:
    @router.route("POST", BASE)
    async def open_threads(call: Call) -> Any:
        return await threads.open(call.principal, call.json())

    @router.route("GET", BASE, returns_list=True)
    async def inbox(call: Call) -> Any:
        return await threads.inbox(call.principal)

    @router.route("GET", BASE + "/existing/:personId")
    async def existing(call: Call) -> Any:
        person_id = call.path_id("personId", ID_LENGTH)
        return await threads.existing(call.principal, person_id)

    @router.route("GET", BASE + "/:id")
    async def one(call: Call) -> Any:
        return await threads.get(call.principal, call.path_id("id", ID_LENGTH))

    @router.route("DELETE", BASE + "/:id")
    async def delete(call: Call) -> Any:
        await threads.delete(call.principal, call.path_id("id", ID_LENGTH))
        return {"success": True}
