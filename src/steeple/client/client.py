"""``Client``: one socket, its subscriptions and the stores on it, owned by the caller.

::

    async with Client("http://localhost:8084", "ws://localhost:8087") as client:
        room = await client.rest.current_conversation("CH1", "streamingLive", "svc1")
        snapshot = await client.conversations.open("CH1", room["id"])

Each ``Client`` is independent (no module state), so one process may run many.
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from steeple.client.backoff import Backoff
from steeple.client.conversations import RETAINED_MESSAGES, ConversationStore
from steeple.client.notifications import Notifications
from steeple.client.presence import PresenceStore
from steeple.client.rest import RestClient
from steeple.client.room_settings import RoomSettingsStore
from steeple.client.socket import Socket
from steeple.client.subscriptions import Subscriptions

DEFAULT_SOCKET_PORT = 8087


def default_socket_url(http_url: str) -> str:
    """A node in local mode listens for sockets on port 8087 of the same host."""
    parts = urlsplit(http_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((scheme, f"{host}:{DEFAULT_SOCKET_PORT}", "", "", ""))


class Client:
    """The client primitives of PROTOCOL §8, wired together over one socket."""

    def __init__(
        self,
        url: str,
        socket_url: str | None = None,
        *,
        token: str | None = None,
        display_name: str = "",
        backoff: Backoff | None = None,
        leave_delay: float = 0.3,
        http: httpx.AsyncClient | None = None,
        retained_messages: int = RETAINED_MESSAGES,
    ) -> None:
        self.rest = RestClient(url, token, http=http)
        self.socket = Socket(socket_url or default_socket_url(url), backoff=backoff)
        self.subscriptions = Subscriptions(
            self.socket,
            self.rest,
            display_name=display_name,
            leave_delay=leave_delay,
            retry=backoff,
        )
        self.conversations = ConversationStore(
            self.socket, self.subscriptions, self.rest, retain=retained_messages
        )
        self.presence = PresenceStore(self.socket)
        self.room_settings = RoomSettingsStore(self.socket, self.subscriptions, self.rest)
        self.notifications = Notifications(self.socket, self.subscriptions, self.rest)

    async def connect(self) -> str:
        """Open the socket; return its socketId (joins made earlier are posted now)."""
        return await self.socket.connect()

    async def aclose(self) -> None:
        await self.notifications.stop()
        await self.conversations.aclose()
        self.presence.aclose()
        await self.room_settings.aclose()
        await self.subscriptions.close()
        await self.socket.close()
        await self.rest.aclose()

    async def __aenter__(self) -> Client:
        try:
            await self.connect()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
