"""``/messaging/notifications``."""

from __future__ import annotations

from typing import Any

from steeple.services.notifications import NotificationService
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/notifications"


def register(router: Router, notifications: NotificationService) -> None:
    @router.route("GET", BASE + "/unreadCount")
    async def unread_count(call: Call) -> Any:
        return await notifications.unread_count(call.principal)

    @router.route("GET", BASE + "/my", returns_list=True)
    async def mine(call: Call) -> Any:
        return await notifications.mine(call.principal)

    @router.route("POST", BASE + "/markRead/:churchId/:personId")
    async def mark_read(call: Call) -> Any:
        await notifications.mark_read(call.principal, *call.row_ids("personId"))
        return {}

    @router.route("DELETE", BASE + "/my")
    async def delete_mine(call: Call) -> Any:
        await notifications.delete_mine(call.principal)
        return {}
