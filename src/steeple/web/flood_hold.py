"""Holding off an address that keeps on after being refused (PROTOCOL.md 5.6).

Rate limits answer a flood with 429s, but each answer still costs the node a whole
HTTP request (accept, parse, route, encode): 10,000 refused posts a second from one
script took most of a core. So the refusals themselves are counted per address, in a
bucket of their own (``LIMIT_REFUSED_ADDRESS``, default 20 a second, 200 at once: a
client that honours ``Retry-After`` earns a handful). An address that empties it is
*held* for ``FLOOD_HOLD_SECONDS``: the listening socket's packet filter drops its
SYNs (:mod:`~steeple.web.packet_filter`), and its open HTTP connections are closed at
their next request. Its open WebSockets stay (they are bounded by the socket cap and
the inbound limits already), so viewers behind a flooding address still see the chat.

Every 4xx answer counts as a refusal, not only 429: a 404 or 401 flood costs as much.
The peer counted is the transport's; a trusted proxy's address (``TRUSTED_PROXIES``) is
never held, since everyone behind it would be: behind a proxy, limit connections there.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from steeple.clock import Clock
from steeple.services.rate_buckets import Charge, LocalBuckets
from steeple.settings import Rate
from steeple.web.packet_filter import drop_sources

log = logging.getLogger(__name__)

MAX_HELD = 10_000
"""Most addresses held at once; past it the longest-held is let go first."""


class FloodHold:
    def __init__(
        self,
        allowance: Rate,
        seconds: float,
        is_proxy: Callable[[str], bool],
        clock: Clock,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._clock = clock
        self._allowance = allowance
        self._seconds = seconds
        self._is_proxy = is_proxy
        self._refusals = LocalBuckets()
        self._held: dict[str, asyncio.TimerHandle] = {}
        self._listeners: list[socket.socket] = []
        self._holds = Counter(
            "steeple_flood_holds",
            "Addresses held off at the listener after too many refused requests",
            registry=registry,
        )

    @property
    def on(self) -> bool:
        return self._allowance.on and self._seconds > 0

    def held(self, address: str) -> bool:
        return address in self._held

    def guard(self, listener: socket.socket) -> None:
        """Filter this listening socket's SYNs by the held addresses from now on."""
        self._listeners.append(listener)
        self._install(listener)

    def refused(self, peer: str) -> None:
        """Note a refused request from ``peer``; hold it if it has had too many."""
        if not self.on or not peer or peer in self._held or self._is_proxy(peer):
            return
        rate = self._allowance
        charge = Charge(peer, 1, 1000.0 / rate.per_second, rate.burst)
        if self._refusals.take_now([charge], self._clock.seconds() * 1000.0) is not None:
            self._hold(peer)

    def release_all(self) -> None:
        for timer in self._held.values():
            timer.cancel()
        self._held.clear()
        self._reinstall()

    def _hold(self, peer: str) -> None:
        if len(self._held) >= MAX_HELD:
            oldest = next(iter(self._held))
            self._held.pop(oldest).cancel()
        loop = asyncio.get_running_loop()
        self._held[peer] = loop.call_later(self._seconds, self._release, peer)
        self._holds.inc()
        log.warning(
            "holding %s off for %g s: more than %d refused requests (LIMIT_REFUSED_ADDRESS)",
            peer,
            self._seconds,
            self._allowance.burst,
        )
        self._reinstall()

    def _release(self, peer: str) -> None:
        if self._held.pop(peer, None) is not None:
            self._reinstall()

    def _reinstall(self) -> None:
        for listener in self._listeners:
            self._install(listener)

    def _install(self, listener: socket.socket) -> None:
        if not drop_sources(listener, self._held) and self._held:
            log.warning("no packet filter here: held addresses are refused after accept")
