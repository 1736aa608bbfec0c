"""The latest settings (slow mode) of the rooms a client follows.

Settings arrive three ways: with the conversation (``slowModeSeconds`` in its JSON,
given to :meth:`RoomSettingsStore.note`), in ``roomSettings`` frames while the socket
is in the room, and from ``GET .../settings`` after every (re)join of a followed room,
since a frame sent while the socket was away is lost. Subscribers hear only of
changes. An older server has none of this: its rooms simply stay at "off".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from steeple.client.errors import ClientError
from steeple.client.models import Frame, RoomSettings
from steeple.client.rest import RestClient
from steeple.client.socket import Socket
from steeple.client.subscriptions import Subscriptions
from steeple.client.tasks import TaskSet
from steeple.protocol.frames import Action
from steeple.types import Room

log = logging.getLogger(__name__)

SettingsListener = Callable[[RoomSettings], None]


class RoomSettingsStore:
    def __init__(self, socket: Socket, subscriptions: Subscriptions, rest: RestClient) -> None:
        self._socket = socket
        self._rest = rest
        self._latest: dict[str, RoomSettings] = {}
        self._followed: set[str] = set()
        self._listeners: dict[str, list[SettingsListener]] = {}
        self._tasks = TaskSet("room settings")
        self._handler_id = f"room-settings-{id(self)}"
        socket.add_handler(Action.ROOM_SETTINGS, self._handler_id, self._on_frame)
        self._unsubscribe = subscriptions.on_joined(self._joined)

    def snapshot(self, conversation_id: str) -> RoomSettings:
        """The latest known settings; the defaults (slow mode off) if none are known."""
        return self._latest.get(conversation_id) or RoomSettings(conversation_id)

    def note(self, conversation: Mapping[str, Any]) -> RoomSettings:
        """Follow a conversation, starting from its JSON (``id``, ``slowModeSeconds``)."""
        conversation_id = str(conversation.get("id") or "")
        self._followed.add(conversation_id)
        self._update(RoomSettings.from_json(conversation, conversation_id))
        return self.snapshot(conversation_id)

    def subscribe(self, conversation_id: str, listener: SettingsListener) -> Callable[[], None]:
        """``listener(settings)`` after each change of the conversation's settings."""
        self._followed.add(conversation_id)
        listeners = self._listeners.setdefault(conversation_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    async def aclose(self) -> None:
        self._unsubscribe()
        self._socket.remove_handler(Action.ROOM_SETTINGS, self._handler_id)
        await self._tasks.cancel_all()

    def _on_frame(self, frame: Frame) -> None:
        if isinstance(frame.data, dict) and frame.conversation_id:
            self._update(RoomSettings.from_json(frame.data, frame.conversation_id))

    def _joined(self, room: Room, socket_id: str) -> None:
        if room[1] in self._followed:
            self._tasks.spawn(self._refresh(room))

    async def _refresh(self, room: Room) -> None:
        try:
            self._update(await self._rest.room_settings(*room))
        except ClientError as exc:  # an older server, or a blip: frames still update us
            log.debug("reading the settings of %s failed: %s", room, exc)

    def _update(self, settings: RoomSettings) -> None:
        conversation_id = settings.conversation_id
        if self._latest.get(conversation_id) == settings:
            return
        known = conversation_id in self._latest
        self._latest[conversation_id] = settings
        if not known and not settings.slow_mode_seconds:
            return  # the first news is the default: nothing changed for anyone
        for listener in list(self._listeners.get(conversation_id, ())):
            try:
                listener(settings)
            except Exception:
                log.exception("room settings listener failed")
