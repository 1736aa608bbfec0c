"""What a push carries and what a push service answered, shared by every push channel.

A channel (Web Push, Expo) turns a :class:`PushMessage` into its service's wire format
and reports one :class:`PushOutcome` per target, so the dispatcher can log the attempt,
delete a target the service says is gone and retry what the service asks to retry.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT_LIMIT = 180


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    link: str
    badge: int
    topic: str
    """One collapse slot per conversation (Web Push ``Topic``, Expo ``collapseId``)."""
    urgent: bool = False
    ttl_seconds: int = 86_400


@dataclass(frozen=True)
class PushOutcome:
    host: str
    """The push service's host only: tokens and endpoints never reach the logs."""
    success: bool
    gone: bool = False
    """404/410 or ``DeviceNotRegistered``: the target should be deleted."""
    retry_after: float | None = None
    """Set when the service asked to be tried again (429, 5xx); seconds, if it said.
    ``0.0`` means "retry, at the dispatcher's own backoff"; None means do not retry."""
    error: str = ""
