"""``/messaging/messages``."""

from __future__ import annotations

from typing import Any

from steeple.services.messages import MessageService
from steeple.web.app import JSON, Raw
from steeple.web.call import Call
from steeple.web.router import Router


def register(router: Router, messages: MessageService) -> None:
    @router.route("POST", "/messaging/messages/send")
    async def send(call: Call) -> Any:
        return await messages.send(call.principal, call.json(), call.address)

    @router.route("POST", "/messaging/messages")
    async def post(call: Call) -> Any:
        return await messages.post(call.principal, call.json(), call.address)

    @router.route("GET", "/messaging/messages/catchup/:churchId/:conversationId", returns_list=True)
    async def catchup(call: Call) -> Any:
        page = await messages.catchup(
            call.principal,
            call.path_id("churchId"),
            call.path_id("conversationId"),
            call.query("after"),
        )
        return Raw(page, JSON)

    @router.route("GET", "/messaging/messages/conversation/:conversationId", returns_list=True)
    async def in_conversation(call: Call) -> Any:
        conversation_id = call.path_id("conversationId")
        page = await messages.in_conversation(call.principal, conversation_id, call.query("after"))
        return Raw(page, JSON)

    @router.route("GET", "/messaging/messages/:churchId/:id")
    async def one(call: Call) -> Any:
        return await messages.get(call.principal, call.path_id("churchId"), call.path_id("id"))

    @router.route("DELETE", "/messaging/messages/:id")
    async def delete(call: Call) -> Any:
        await messages.delete(call.principal, call.path_id("id"))
        return {"message": "Message deleted successfully"}
