"""The latest attendance per conversation (ChurchApps' ``PresenceStore``).

The server may send the same attendance twice (a rename to the same name, a leave and
re-join folded into one interval); subscribers are told only when it really changed,
so a viewer list does not re-render for nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from steeple.client.models import AttendanceSnapshot, Frame
from steeple.client.socket import Socket
from steeple.protocol.frames import Action

log = logging.getLogger(__name__)

AttendanceListener = Callable[[AttendanceSnapshot], None]


class PresenceStore:
    """Keeps ``attendance`` frames by conversation id and tells subscribers of changes."""

    def __init__(self, socket: Socket) -> None:
        self._socket = socket
        self._latest: dict[str, AttendanceSnapshot] = {}
        self._listeners: dict[str, list[AttendanceListener]] = {}
        self._handler_id = f"presence-{id(self)}"
        socket.add_handler(Action.ATTENDANCE, self._handler_id, self._on_attendance)

    def snapshot(self, conversation_id: str) -> AttendanceSnapshot | None:
        return self._latest.get(conversation_id)

    def subscribe(self, conversation_id: str, listener: AttendanceListener) -> Callable[[], None]:
        """``listener(snapshot)`` for each changed attendance of the conversation."""
        listeners = self._listeners.setdefault(conversation_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def forget(self, conversation_id: str) -> None:
        """Drop the cached attendance (after leaving the room)."""
        self._latest.pop(conversation_id, None)

    def aclose(self) -> None:
        self._socket.remove_handler(Action.ATTENDANCE, self._handler_id)

    def _on_attendance(self, frame: Frame) -> None:
        if not isinstance(frame.data, dict):
            return
        snapshot = AttendanceSnapshot.from_json(frame.data)
        conversation_id = snapshot.conversation_id or frame.conversation_id
        if self._latest.get(conversation_id) == snapshot:
            return
        self._latest[conversation_id] = snapshot
        for listener in list(self._listeners.get(conversation_id, ())):
            try:
                listener(snapshot)
            except Exception:
                log.exception("attendance listener failed")
