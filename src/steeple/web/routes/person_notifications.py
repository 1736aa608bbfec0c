"""``/messaging/notifications`` by person and id, ``create`` and ``sendTest``."""

from __future__ import annotations

from typing import Any

from steeple.services.person_notifications import PersonNotifications
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/notifications"


def register(router: Router, notifications: PersonNotifications) -> None:
    @router.route("GET", BASE + "/:churchId/person/:personId", returns_list=True)
    async def for_person(call: Call) -> Any:
        return await notifications.for_person(call.principal, *call.row_ids("personId"))

    @router.route("GET", BASE + "/:churchId/:id")
    async def one(call: Call) -> Any:
        return await notifications.get(call.principal, *call.row_ids("id"))

    @router.route("DELETE", BASE + "/:churchId/:id")
    async def delete(call: Call) -> Any:
        await notifications.delete(call.principal, *call.row_ids("id"))
        return {}

    @router.route("POST", BASE + "/create")
    async def create(call: Call) -> Any:
        return await notifications.create(call.principal, call.json())

    @router.route("POST", BASE + "/sendTest")
    async def send_test(call: Call) -> Any:
        return await notifications.send_test(call.principal, call.json())
