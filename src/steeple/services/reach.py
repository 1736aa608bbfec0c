"""Whether a person can be reached by socket right now: a live ``alerts`` socket anywhere.

The person's ``alerts`` connection rows name the candidate sockets; delivery says which
of them still exist on any node (or, on AWS, any live connection). This is what
``notifications/sendTest`` reports, and what push delivery asks before it pushes.
"""

from __future__ import annotations

from steeple.delivery.base import Delivery
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.storage.store import Store


class SocketReach:
    def __init__(self, store: Store, delivery: Delivery) -> None:
        self._store = store
        self._delivery = delivery

    async def has_socket(self, church_id: str, person_id: str) -> bool:
        room = (church_id, ALERTS_ROOM)
        candidates = await self._store.connections.socket_ids_in_room(room, person_id)
        return bool(candidates) and bool(await self._delivery.live_socket_ids(candidates))
