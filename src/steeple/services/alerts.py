"""Telling one person that something happened: the NotificationSink hook and its sockets.

Every piece of news for a person (a notification, a private message, counts that
changed because they read something) goes through :class:`Alerts`, which hands one
:class:`Alert` to each configured :class:`NotificationSink`. The first sink is the
person's ``alerts`` sockets; mobile and web push are further sinks, added in
``steeple.node.Services`` without touching the services that raise alerts.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from steeple.delivery.base import Delivery
from steeple.protocol.frames import Action
from steeple.protocol.outbound import Outbound
from steeple.protocol.rooms import NOTIFICATION_CONVERSATION_ID
from steeple.services.push_news import PushNews
from steeple.storage.rows import MessageRow
from steeple.storage.store import Store
from steeple.types import person_alerts_room

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """News for one person: fresh unread counts, plus the message when it is a DM."""

    church_id: str
    person_id: str
    counts: dict[str, int]
    message: MessageRow | None = None
    title: str = ""
    push: PushNews | None = None
    """Set for news a phone should hear about; None when only the counts changed."""


class NotificationSink(ABC):
    """One way of reaching a person. Sinks must not assume the person is reachable."""

    @abstractmethod
    async def deliver(self, alert: Alert) -> None:
        """Pass the alert on; raising only logs, the other sinks still run."""


class SocketSink(NotificationSink):
    """The person's ``alerts`` sockets, on whichever node holds them."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery

    async def deliver(self, alert: Alert) -> None:
        room = person_alerts_room(alert.church_id, alert.person_id)
        await self._delivery.publish(room, alert_frame(alert))


def alert_frame(alert: Alert) -> Outbound:
    """``privateMessage`` (with the message) for a DM, else a ``notification`` frame."""
    data: dict[str, object] = {"counts": alert.counts}
    if alert.message is None:
        return Outbound.of(alert.church_id, NOTIFICATION_CONVERSATION_ID, Action.NOTIFICATION, data)
    conversation_id = alert.message["conversationId"]
    data.update(conversationId=conversation_id, message=alert.message)
    return Outbound.of(alert.church_id, conversation_id, Action.PRIVATE_MESSAGE, data)


class Alerts:
    """Counts a person's unread news and tells every sink."""

    def __init__(self, store: Store, sinks: Sequence[NotificationSink]) -> None:
        self._store = store
        self.sinks = list(sinks)

    async def counts(self, church_id: str, person_id: str) -> dict[str, int]:
        return await self._store.notifications.counts(church_id, person_id)

    async def tell(
        self,
        church_id: str,
        person_id: str,
        *,
        message: MessageRow | None = None,
        title: str = "",
        push: PushNews | None = None,
    ) -> None:
        """Send fresh counts (and the DM, if any) to every sink of this person."""
        counts = await self.counts(church_id, person_id)
        alert = Alert(church_id, person_id, counts, message, title, push)
        for sink in self.sinks:
            try:
                await sink.deliver(alert)
            except Exception:
                log.exception("%s could not deliver an alert", type(sink).__name__)
