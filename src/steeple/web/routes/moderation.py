"""``/messaging/blockedIps`` and ``/messaging/messages/setCallout``."""

from __future__ import annotations

from typing import Any

from steeple.services.moderation import ModerationService
from steeple.web.call import Call
from steeple.web.router import Router


def register(router: Router, moderation: ModerationService) -> None:
    @router.route("POST", "/messaging/blockedIps")
    async def toggle(call: Call) -> Any:
        return await moderation.toggle_blocks(call.principal, call.json())

    @router.route("POST", "/messaging/blockedIps/clear")
    async def clear(call: Call) -> Any:
        await moderation.clear_blocks(call.principal, call.json())
        return {}

    @router.route("POST", "/messaging/messages/setCallout")
    async def set_callout(call: Call) -> Any:
        return await moderation.set_callout(call.principal, call.json())
