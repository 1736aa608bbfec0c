"""What the client tests build on: a Client maker's type, a live room, a restartable node."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from steeple.client import Client
from steeple.node import Node
from steeple.settings import Settings

MakeClient = Callable[..., Awaitable[Client]]


async def live_room(client: Client, church: str = "CH1", service: str = "svc1") -> str:
    """The id of the public live-stream room of ``service``."""
    return str((await client.rest.current_conversation(church, "streamingLive", service))["id"])


class Restartable:
    """A node that can be stopped and started again on the same ports."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.node: Node | None = None

    async def start(self) -> Node:
        self.node = Node(self.settings)
        await self.node.start()
        return self.node

    async def stop(self) -> None:
        if self.node is not None:
            await self.node.stop()
            self.node = None
