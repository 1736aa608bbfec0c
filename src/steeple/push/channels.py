"""The push channels a node's settings switch on, and the HTTP client they share.

Web Push is on when ``VAPID_PRIVATE_KEY`` is set; Expo push (B1Mobile's phones) is
always on, at ``EXPO_PUSH_URL`` (a church without the app has no Expo devices, so it
sends nothing), and its receipts are read later to find phones that are gone.
Outgoing TLS trusts the public CAs,
or only ``SSL_CERT_FILE`` when it is set (a deployment behind a private CA, and the
tests' push services); there is no switch for plain HTTP.
"""

from __future__ import annotations

import ssl
from datetime import datetime

import httpx

from steeple.push import expo, web_push_channel
from steeple.push.channel import ChannelRoute, DeviceKey
from steeple.push.expo import ExpoPush, ExpoTicket
from steeple.push.expo_receipts import ExpoReceipts
from steeple.push.message import PushOutcome
from steeple.push.vapid import web_push_keys
from steeple.push.web_push_channel import WebPushChannel
from steeple.settings import Settings

MAX_CONNECTIONS = 50


def push_client(settings: Settings) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    if settings.ssl_cert_file:
        verify = ssl.create_default_context(cafile=settings.ssl_cert_file)
    return httpx.AsyncClient(
        verify=verify,
        timeout=settings.push_timeout,
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        follow_redirects=False,
    )


def push_routes(settings: Settings, client: httpx.AsyncClient) -> list[ChannelRoute]:
    routes: list[ChannelRoute] = []
    keys = web_push_keys(settings.vapid_private_key)
    if keys is not None:
        channel = WebPushChannel(client, keys, settings.vapid_subject)
        routes.append(ChannelRoute(web_push_channel.METHOD, web_push_channel.accepts, channel))
    phones = ExpoPush.from_settings(client, settings)
    routes.append(ChannelRoute(expo.METHOD, expo.accepts, phones, ExpoFollowUp(phones)))
    return routes


class ExpoFollowUp:
    """Expo's receipts, as the dispatcher asks for later outcomes."""

    def __init__(self, phones: ExpoPush) -> None:
        self._receipts: ExpoReceipts[DeviceKey] = ExpoReceipts(phones)

    def remember(self, outcome: PushOutcome, device: DeviceKey, sent: datetime) -> None:
        if isinstance(outcome, ExpoTicket):
            self._receipts.remember(outcome, device, sent)

    async def check(self, now: datetime) -> list[tuple[DeviceKey, PushOutcome]]:
        return await self._receipts.check(now)
