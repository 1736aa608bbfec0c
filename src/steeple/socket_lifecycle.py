"""Sockets joining and leaving this node: the hub indexes them, the services are told.

Every edge (the socket port, single-port mode) opens and closes sockets through one
:class:`SocketLifecycle`, so the hub and the connection rows agree whichever edge
holds a socket.
"""

from __future__ import annotations

from typing import Protocol

from steeple.hub import Hub, Socket


class SocketEvents(Protocol):
    """Told when a socket joins or leaves this node."""

    def socket_opened(self, socket: Socket) -> None: ...

    def socket_closed(self, socket_id: str) -> None: ...


class SocketLifecycle:
    """Registers opened sockets with the hub and forgets closed ones, for every edge."""

    def __init__(self, hub: Hub, events: SocketEvents) -> None:
        self.hub = hub
        self.events = events

    def opened(self, socket: Socket) -> None:
        self.hub.add(socket)
        self.events.socket_opened(socket)

    def closed(self, socket_id: str) -> None:
        self.hub.remove(socket_id)
        self.events.socket_closed(socket_id)
