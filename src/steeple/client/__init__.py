"""An asyncio client for Steeple (and any ChurchApps messaging server): PROTOCOL §8.

The pieces mirror ChurchApps' client primitives, as objects the caller owns:
:class:`Socket` (one self-healing WebSocket), :class:`Subscriptions` (reference-counted
rooms), :class:`ConversationStore`, :class:`PresenceStore`, :class:`Notifications`,
:class:`RoomSettingsStore` (slow mode) and :class:`RestClient`. :class:`Client` wires
them together. This package talks to a server only over HTTP and WebSockets; it
imports nothing of the server.
"""

from steeple.client.backoff import Backoff
from steeple.client.client import Client, default_socket_url
from steeple.client.conversations import ConversationStore
from steeple.client.errors import (
    ApiError,
    BadRequestError,
    ClientError,
    ConnectFailed,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    ProtocolError,
    ServerError,
    SocketError,
    SocketIdTimeout,
    TooManyRequestsError,
    TransportError,
    UnauthorizedError,
)
from steeple.client.models import (
    AttendanceSnapshot,
    ConversationSnapshot,
    Counts,
    Frame,
    Message,
    RoomSettings,
    Viewer,
)
from steeple.client.notifications import Notifications
from steeple.client.presence import PresenceStore
from steeple.client.rest import RestClient
from steeple.client.room_settings import RoomSettingsStore
from steeple.client.socket import DISCONNECT, RECONNECT, Socket
from steeple.client.subscriptions import Subscriptions

__all__ = [
    "DISCONNECT",
    "RECONNECT",
    "ApiError",
    "AttendanceSnapshot",
    "Backoff",
    "BadRequestError",
    "Client",
    "ClientError",
    "ConnectFailed",
    "ConversationSnapshot",
    "ConversationStore",
    "Counts",
    "ForbiddenError",
    "Frame",
    "Message",
    "NotFoundError",
    "Notifications",
    "PayloadTooLargeError",
    "PresenceStore",
    "ProtocolError",
    "RestClient",
    "RoomSettings",
    "RoomSettingsStore",
    "ServerError",
    "Socket",
    "SocketError",
    "SocketIdTimeout",
    "Subscriptions",
    "TooManyRequestsError",
    "TransportError",
    "UnauthorizedError",
    "Viewer",
    "default_socket_url",
]
