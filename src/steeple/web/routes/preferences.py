"""``/messaging/notificationPreferences``."""

from __future__ import annotations

from typing import Any

from steeple.services.preferences import PreferenceService
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/notificationPreferences"


def register(router: Router, preferences: PreferenceService) -> None:
    @router.route("GET", BASE + "/categories", returns_list=True)
    async def categories(call: Call) -> Any:
        return preferences.categories(call.principal)

    @router.route("GET", BASE + "/my")
    async def mine(call: Call) -> Any:
        return await preferences.mine(call.principal)

    @router.route("POST", BASE)
    async def save(call: Call) -> Any:
        return await preferences.save(call.principal, call.json())
