"""The push channels a node's settings switch on, and the HTTP client they share.

Web Push is on when ``VAPID_PRIVATE_KEY`` is set. Outgoing TLS trusts the public CAs,
or only ``SSL_CERT_FILE`` when it is set (a deployment behind a private CA, and the
tests' push services); there is no switch for plain HTTP.
"""

from __future__ import annotations

import ssl

import httpx

from steeple.push import web_push_channel
from steeple.push.channel import ChannelRoute
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
    return routes
