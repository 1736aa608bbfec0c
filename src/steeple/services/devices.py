"""Device enrollment for mobile push: B1Mobile registers its Expo push token here.

A phone is found again by its token within the caller's church, else by the app's
own ``deviceId``; either way it then belongs to whoever enrolled it last, since the
person signed in on a phone is the one its notifications are for.
"""

from __future__ import annotations

from typing import Any

import orjson

from steeple import access, validation
from steeple.auth.principal import CONTENT_EDIT, MESSAGING_ADMIN, Principal
from steeple.errors import BadRequest, NotFound, Unauthorized
from steeple.push.subscription import TOKEN_PREFIX
from steeple.services.context import Context
from steeple.services.ownership import owner_or
from steeple.storage.rows import DeviceChanges, DeviceRow
from steeple.types import new_id

DEFAULT_APP = "B1Mobile"
MAX_TOKEN = 4096
MAX_DEVICE_INFO = 8192
APP_NAME, DEVICE_ID, LABEL = 20, 45, 45
"""The ChurchApps column sizes."""


class DeviceService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._store = ctx.store

    async def enroll(self, principal: Principal, body: Any) -> DeviceRow:
        church_id, person_id = person_of(principal)
        entry = validation.an_object(body)
        token = validation.text(entry, "fcmToken", max_length=MAX_TOKEN)
        if token.startswith(TOKEN_PREFIX):
            raise BadRequest("a web push subscription is stored with POST /webpush/subscribe")
        app_name = validation.text(
            entry, "appName", required=False, max_length=APP_NAME, default=DEFAULT_APP
        )
        device_id = validation.text(entry, "deviceId", required=False, max_length=DEVICE_ID)
        details = device_details(entry)
        found = await self._store.devices.by_token(church_id, token)
        if found is None and device_id:
            found = await self._store.devices.by_device_id(church_id, app_name, device_id)
        values: DeviceChanges = {
            "personId": person_id,
            "fcmToken": token,
            "appName": app_name,
            **details,
        }
        if device_id:
            values["deviceId"] = device_id
        return await self.keep(church_id, found, values)

    async def keep(
        self, church_id: str, found: DeviceRow | None, values: DeviceChanges
    ) -> DeviceRow:
        """Update ``found`` with ``values``, or create a device from them; the saved row."""
        values = {**values, "lastActiveDate": self._ctx.clock.now()}
        if found is not None:
            await self._store.devices.update(found["id"], values)
            saved = await self._store.devices.get(church_id, found["id"])
            if saved is not None:
                return saved
        # A new device: what enrollment did not send is NULL.
        row: DeviceRow = {
            "id": new_id(),
            "churchId": church_id,
            "deviceId": values.get("deviceId"),
            "label": values.get("label"),
            "deviceInfo": values.get("deviceInfo"),
            "personId": values["personId"],
            "fcmToken": values.get("fcmToken"),
            "appName": values.get("appName"),
            "lastActiveDate": values["lastActiveDate"],
            "registrationDate": values["lastActiveDate"],
        }
        await self._store.devices.add(row)
        return row

    async def for_person(
        self, principal: Principal, church_id: str, person_id: str
    ) -> list[DeviceRow]:
        if not owner_or(principal, church_id, person_id, MESSAGING_ADMIN):
            raise Unauthorized()
        return await self._store.devices.for_person(church_id, person_id)

    async def delete(self, principal: Principal, church_id: str, device_id: str) -> None:
        """The device's owner or ``Content__Edit`` of its church."""
        if not principal.in_church(church_id):
            raise Unauthorized()
        row = await self._store.devices.get(church_id, device_id)
        if row is None:
            raise NotFound(f"device {device_id} not found")
        if not owner_or(principal, church_id, row["personId"], CONTENT_EDIT):
            raise Unauthorized()
        await self._store.devices.delete(church_id, device_id)


def person_of(principal: Principal) -> tuple[str, str]:
    if not access.can_use_alerts(principal):
        raise Unauthorized()
    return principal.church_id, principal.person_id


def device_details(entry: dict[str, Any]) -> DeviceChanges:
    """``label`` and ``deviceInfo`` when given (an update keeps what is not sent)."""
    details: DeviceChanges = {}
    label = validation.text(entry, "label", required=False, max_length=LABEL)
    if label:
        details["label"] = label
    info = entry.get("deviceInfo")
    if isinstance(info, dict | list):
        info = orjson.dumps(info).decode()  # B1Mobile sends an object; the column is text
    if info is not None and info != "":
        details["deviceInfo"] = validation.text(
            {"deviceInfo": info}, "deviceInfo", max_length=MAX_DEVICE_INFO
        )
    return details
