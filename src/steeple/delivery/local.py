"""Local delivery: every socket is on this node, so a frame goes straight to the hub."""

from __future__ import annotations

from steeple.delivery.base import Delivery
from steeple.hub import Hub
from steeple.protocol.outbound import Outbound
from steeple.types import Room


class LocalDelivery(Delivery):
    """Single-node delivery; the in-memory room index is the fan-out list."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def publish(self, room: Room, frame: Outbound) -> None:
        self._hub.publish(room, frame)

    async def send(self, socket_id: str, frame: Outbound) -> None:
        self._hub.send(socket_id, frame)

    async def join(self, room: Room, socket_id: str) -> bool:
        return self._hub.join(room, socket_id)

    async def leave(self, room: Room, socket_id: str) -> None:
        self._hub.leave(room, socket_id)

    async def live_socket_ids(self, candidates: set[str]) -> set[str]:
        return self._hub.open_among(candidates)
