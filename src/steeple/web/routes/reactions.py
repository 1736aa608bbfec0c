"""``/messaging/messages/:messageId/reactions``."""

from __future__ import annotations

from typing import Any

from steeple.services.reactions import ReactionService
from steeple.types import ID_LENGTH
from steeple.web.call import Call
from steeple.web.router import Router


def register(router: Router, reactions: ReactionService) -> None:
    @router.route("POST", "/messaging/messages/:messageId/reactions")
    async def toggle(call: Call) -> Any:
        message_id = call.path_id("messageId", ID_LENGTH)
        return await reactions.toggle(call.principal, message_id, call.json())
