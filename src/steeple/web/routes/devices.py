"""``/messaging/devices``: mobile push enrollment (the TV-pairing routes are not messaging's)."""

from __future__ import annotations

from typing import Any

from steeple.services.devices import DeviceService
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/devices"


def register(router: Router, devices: DeviceService) -> None:
    @router.route("POST", BASE + "/enroll")
    async def enroll(call: Call) -> Any:
        return await devices.enroll(call.principal, call.json())

    @router.route("GET", BASE + "/:churchId/person/:personId", returns_list=True)
    async def for_person(call: Call) -> Any:
        return await devices.for_person(call.principal, *call.row_ids("personId"))

    @router.route("DELETE", BASE + "/:churchId/:id")
    async def delete(call: Call) -> Any:
        await devices.delete(call.principal, *call.row_ids("id"))
        return {}
