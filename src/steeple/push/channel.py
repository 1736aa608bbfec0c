"""What the dispatcher needs of a push channel, so Web Push and Expo plug in alike.

A channel takes ``(token, message)`` pairs, where the token is the device row's
``fcmToken`` as stored (``webpush:{...}`` or ``ExponentPushToken[...]``), and answers
one :class:`~steeple.push.message.PushOutcome` per pair, in order. A
:class:`ChannelRoute` says which tokens a channel takes and which ``deliveryMethod``
its attempts are logged under. A channel whose service answers later (Expo's
receipts) adds a :class:`FollowUp`, which the dispatcher asks now and then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from steeple.push.message import PushMessage, PushOutcome


class PushChannel(Protocol):
    async def send(self, targets: Sequence[tuple[str, PushMessage]]) -> list[PushOutcome]:
        """One outcome per target, in order; never raises for a target's failure."""
        ...


DeviceKey = tuple[str, str, str]
"""(churchId, personId, device id) of the ``devices`` row a push went to."""


class FollowUp(Protocol):
    def remember(self, outcome: PushOutcome, device: DeviceKey, sent: datetime) -> None:
        """Note a send whose real outcome the service tells later."""
        ...

    async def check(self, now: datetime) -> list[tuple[DeviceKey, PushOutcome]]:
        """The later outcomes that are known by ``now``."""
        ...


@dataclass(frozen=True)
class ChannelRoute:
    method: str
    """The ``deliveryLogs.deliveryMethod`` of this channel's attempts."""
    accepts: Callable[[str], bool]
    """Whether a device's ``fcmToken`` is one of this channel's."""
    channel: PushChannel
    follow_up: FollowUp | None = None
