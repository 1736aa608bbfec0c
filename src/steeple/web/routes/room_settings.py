"""``/messaging/conversations/:churchId/:id/settings``: a room's settings (slow mode).

A Steeple addition (PROTOCOL.md 5.6 names no route): readers of the conversation GET
them, hosts POST ``{slowModeSeconds}``.
"""

from __future__ import annotations

from typing import Any

from steeple.services.room_settings import RoomSettingsService
from steeple.web.call import Call
from steeple.web.router import Router

PATH = "/messaging/conversations/:churchId/:id/settings"


def register(router: Router, settings: RoomSettingsService) -> None:
    @router.route("GET", PATH)
    async def read(call: Call) -> Any:
        return await settings.read(call.principal, call.path_id("churchId"), call.path_id("id"))

    @router.route("POST", PATH)
    async def change(call: Call) -> Any:
        return await settings.change(
            call.principal, call.path_id("churchId"), call.path_id("id"), call.json()
        )
