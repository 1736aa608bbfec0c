"""Expo's receipts, asked for a while after the send: which phones are gone.

An ``ok`` ticket only means Expo queued the message. What Apple or Google answered
(``DeviceNotRegistered`` when the app was uninstalled) is in the receipt, ready
within minutes (Expo says to allow up to 30 under load) and kept for about a day.
:class:`ExpoReceipts` remembers the tickets of this node's sends and, when asked to
check, reads the receipts that are due and says what became of each message.

It is memory, bounded by ``limit`` (the oldest tickets are forgotten first), not
rows: a restart forgets the tickets in flight. That costs little, because a device
that is gone makes the next push to it fail again and be noticed then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from steeple.push.expo import ExpoPush, ExpoTicket
from steeple.push.message import PushOutcome

Key = TypeVar("Key")
"""Whatever the caller needs to act on a receipt, e.g. ``(churchId, deviceId)``."""

FIRST_LOOK = timedelta(minutes=15)
"""When a receipt is first asked for, after the send."""
KEPT = timedelta(hours=24)
"""How long Expo keeps receipts: a ticket older than this is forgotten."""
LIMIT = 100_000


@dataclass
class _Waiting(Generic[Key]):
    key: Key
    sent: datetime
    ask_at: datetime


class ExpoReceipts(Generic[Key]):
    def __init__(
        self,
        push: ExpoPush,
        *,
        first_look: timedelta = FIRST_LOOK,
        kept: timedelta = KEPT,
        limit: int = LIMIT,
    ) -> None:
        self._push = push
        self._first_look = first_look
        self._kept = kept
        self._limit = limit
        self._waiting: dict[str, _Waiting[Key]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def remember(self, ticket: ExpoTicket, key: Key, sent: datetime) -> None:
        """Keep an accepted ticket to check later; other outcomes have no receipt."""
        if not ticket.ticket_id:
            return
        while len(self._waiting) >= self._limit:
            del self._waiting[next(iter(self._waiting))]
        self._waiting[ticket.ticket_id] = _Waiting(key, sent, sent + self._first_look)

    async def check(self, now: datetime) -> list[tuple[Key, PushOutcome]]:
        """The receipts due by ``now``, read from Expo: each settled message's key and
        outcome (``gone``: delete the device). A receipt that is not ready, or that
        Expo could not give this time, is asked for again one ``first_look`` later,
        until Expo no longer keeps it."""
        self._forget_expired(now)
        due = [ticket for ticket, waiting in self._waiting.items() if waiting.ask_at <= now]
        if not due:
            return []
        answers = await self._push.receipts(due)
        settled: list[tuple[Key, PushOutcome]] = []
        for ticket in due:
            waiting = self._waiting.get(ticket)
            if waiting is None:  # forgotten while Expo answered (the limit)
                continue
            outcome = answers.get(ticket)
            if outcome is None or outcome.retry_after is not None:
                waiting.ask_at = now + self._first_look
                continue
            del self._waiting[ticket]
            settled.append((waiting.key, outcome))
        return settled

    def _forget_expired(self, now: datetime) -> None:
        expired = [t for t, waiting in self._waiting.items() if waiting.sent + self._kept <= now]
        for ticket in expired:
            del self._waiting[ticket]
