"""What every service shares: storage, delivery, attendance, clock and secrets."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from steeple.auth.hostchat import HostChatCipher
from steeple.auth.pseudonym import Pseudonymizer
from steeple.clock import Clock
from steeple.delivery.base import Delivery
from steeple.presence import Attendance
from steeple.protocol.frames import Action
from steeple.protocol.outbound import Outbound
from steeple.settings import Settings
from steeple.storage.store import Store
from steeple.types import Room


@dataclass
class Context:
    settings: Settings
    store: Store
    delivery: Delivery
    attendance: Attendance
    clock: Clock
    pseudonyms: Pseudonymizer
    cipher: HostChatCipher
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def publish(self, room: Room, action: Action, data: object) -> None:
        """Encode once and hand to delivery. Call only after the data is committed."""
        await self.delivery.publish(room, Outbound.of(room[0], room[1], action, data))

    def checked_frame(self, room: Room, action: Action, data: object) -> Outbound:
        """Encode a frame and let delivery refuse it now (:class:`FrameTooLarge`): call
        before committing what it describes, then publish it with :meth:`publish_frame`."""
        frame = Outbound.of(room[0], room[1], action, data)
        self.delivery.check_frame(frame)
        return frame

    async def publish_frame(self, room: Room, frame: Outbound) -> None:
        """Hand an already encoded frame to delivery, after the commit."""
        await self.delivery.publish(room, frame)

    async def send_to(
        self, room: Room, socket_ids: list[str], action: Action, data: object
    ) -> None:
        """One frame of the room, encoded once, to those sockets only (wherever held)."""
        frame = Outbound.of(room[0], room[1], action, data)
        for socket_id in socket_ids:
            await self.delivery.send(socket_id, frame)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run background work that must finish before shutdown completes."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        await self.attendance.drain()
