"""Unread counts of a signed-in person (ChurchApps' ``NotificationService``).

The person's sockets join the ``alerts`` room; the server pushes ``notification`` and
``privateMessage`` frames carrying fresh ``counts`` there. A frame without counts is a
"go refresh" nudge, and so is every (re)join of ``alerts``: while the socket was away
the counts may have changed, and no frame will say so.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any

from steeple.client.errors import ClientError
from steeple.client.models import Counts, Frame
from steeple.client.rest import RestClient
from steeple.client.socket import Socket
from steeple.client.subscriptions import Subscriptions
from steeple.client.tasks import TaskSet
from steeple.protocol.frames import Action
from steeple.protocol.rooms import ALERTS_ROOM
from steeple.types import Room

log = logging.getLogger(__name__)

CountsListener = Callable[[Counts], None]


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, *unverified*: only to learn the caller's own churchId."""
    try:
        payload = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise ClientError("the token is not a JWT") from None
    if not isinstance(value, dict):
        raise ClientError("the token is not a JWT")
    return value


class Notifications:
    """``{notificationCount, pmCount}`` kept current; start with :meth:`start`."""

    def __init__(self, socket: Socket, subscriptions: Subscriptions, rest: RestClient) -> None:
        self._socket = socket
        self._subscriptions = subscriptions
        self._rest = rest
        self._church_id = ""
        self._counts = Counts()
        self._listeners: list[CountsListener] = []
        self._tasks = TaskSet("notifications")
        self._handler_id = f"notifications-{id(self)}"
        self._unsubscribe: Callable[[], None] | None = None
        self._ready = False

    @property
    def counts(self) -> Counts:
        return self._counts

    @property
    def started(self) -> bool:
        return self._unsubscribe is not None

    def subscribe(self, listener: CountsListener) -> Callable[[], None]:
        """``listener(counts)`` whenever the counts change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def start(self) -> Counts:
        """Join the person's ``alerts`` room and fetch the counts."""
        if self._unsubscribe is not None:
            return self._counts
        if not self._rest.token:
            raise ClientError("notifications need a signed-in client (a token)")
        self._church_id = str(token_claims(self._rest.token).get("churchId") or "")
        for action in (Action.NOTIFICATION, Action.PRIVATE_MESSAGE):
            self._socket.add_handler(action, self._handler_id, self._on_frame)
        self._unsubscribe = self._subscriptions.on_joined(self._alerts_joined)
        try:
            await self._subscriptions.join(self._church_id, ALERTS_ROOM)
        except BaseException:
            self._unsubscribe()
            self._unsubscribe = None
            self._remove_handlers()
            raise
        counts = await self.refresh()
        self._ready = True  # from now on each re-join of alerts refreshes
        return counts

    async def refresh(self) -> Counts:
        """Fetch ``/notifications/unreadCount`` and publish it."""
        self._set(await self._rest.unread_count())
        return self._counts

    async def stop(self) -> None:
        if self._unsubscribe is None:
            return
        self._unsubscribe()
        self._unsubscribe = None
        self._ready = False
        self._remove_handlers()
        self._subscriptions.leave(self._church_id, ALERTS_ROOM)
        await self._tasks.cancel_all()

    def _remove_handlers(self) -> None:
        for action in (Action.NOTIFICATION, Action.PRIVATE_MESSAGE):
            self._socket.remove_handler(action, self._handler_id)

    def _alerts_joined(self, room: Room, socket_id: str) -> None:
        if room[1] == ALERTS_ROOM and self._ready:
            self._tasks.spawn(self._refresh_quietly())

    def _on_frame(self, frame: Frame) -> None:
        counts = frame.data.get("counts") if isinstance(frame.data, dict) else None
        if isinstance(counts, dict):
            self._set(Counts.from_json(counts))
        else:
            self._tasks.spawn(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except ClientError as exc:
            log.warning("refreshing unread counts failed: %s", exc)

    def _set(self, counts: Counts) -> None:
        if counts == self._counts:
            return
        self._counts = counts
        for listener in list(self._listeners):
            try:
                listener(counts)
            except Exception:
                log.exception("counts listener failed")
