"""Web push set-up for the B1App web app: the VAPID public key and its subscriptions.

A subscription is stored as a ``devices`` row (see :mod:`steeple.push.subscription`);
the same endpoint subscribing again, in the same church, updates its row. Sending is
the push issue's; here the routes store and answer.
"""

from __future__ import annotations

from typing import Any

from steeple import validation
from steeple.auth.principal import CONTENT_EDIT, Principal
from steeple.errors import NotFound, Unauthorized
from steeple.push.subscription import WebPushSubscription, https_endpoint, token_prefix
from steeple.push.vapid import VapidKeys
from steeple.services.context import Context
from steeple.services.devices import APP_NAME, DeviceService, device_details, person_of
from steeple.services.ownership import owner_or
from steeple.storage.rows import DeviceChanges

DEFAULT_APP = "B1App"


class WebPushService:
    def __init__(self, ctx: Context, devices: DeviceService, keys: VapidKeys | None) -> None:
        self._store = ctx.store
        self._devices = devices
        self._keys = keys

    def public_key(self) -> dict[str, Any]:
        """An unconfigured server says so, and the client switches web push off quietly."""
        if self._keys is None:
            return {"publicKey": "", "enabled": False}
        return {"publicKey": self._keys.public_key_b64, "enabled": True}

    async def subscribe(self, principal: Principal, body: Any) -> dict[str, Any]:
        """Raises BadRequest (naming the problem) for a subscription that is not valid."""
        church_id, person_id = person_of(principal)
        entry = validation.an_object(body)
        subscription = WebPushSubscription.parse(entry.get("subscription"))
        app_name = validation.text(
            entry, "appName", required=False, max_length=APP_NAME, default=DEFAULT_APP
        )
        found = await self._store.devices.by_token_prefix(
            church_id, token_prefix(subscription.endpoint)
        )
        values: DeviceChanges = {
            "personId": person_id,
            "fcmToken": subscription.token(),
            "appName": app_name,
            **device_details(entry),
        }
        saved = await self._devices.keep(church_id, found, values)
        return {"success": True, "id": saved["id"]}

    async def unsubscribe(self, body: Any) -> dict[str, Any]:
        """Anyone holding the endpoint (a secret of the browser) may drop it, nothing more."""
        endpoint = https_endpoint(validation.an_object(body).get("endpoint"))
        deleted = await self._store.devices.delete_by_token_prefix(token_prefix(endpoint))
        return {"success": deleted > 0}

    async def delete(self, principal: Principal, device_id: str) -> None:
        if not principal.authenticated:
            raise Unauthorized()
        church_id = principal.church_id  # the path has no church: the caller's own
        row = await self._store.devices.get(church_id, device_id)
        if row is None:
            raise NotFound(f"subscription {device_id} not found")
        if not owner_or(principal, church_id, row["personId"], CONTENT_EDIT):
            raise Unauthorized()
        await self._store.devices.delete(church_id, device_id)
