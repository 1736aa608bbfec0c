"""``/content/streamingServices/:id/hostChat``: the one route under ``/content``."""

from __future__ import annotations

from typing import Any

from steeple.services.host_chat import HostChatService
from steeple.web.call import Call
from steeple.web.router import Router


def register(router: Router, host_chat: HostChatService) -> None:
    @router.route("GET", "/content/streamingServices/:id/hostChat")
    async def host_chat_room(call: Call) -> Any:
        return host_chat.room(call.principal, call.params["id"])
