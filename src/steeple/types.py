"""Domain identifiers and id generation.

Ids are 11-character strings of ``[A-Za-z0-9_-]``, like ChurchApps' own.
"""

from __future__ import annotations

import secrets
from typing import NewType

ChurchId = NewType("ChurchId", str)
ConversationId = NewType("ConversationId", str)
SocketId = NewType("SocketId", str)
PersonId = NewType("PersonId", str)

Room = tuple[str, str]
"""A room is the pair (churchId, conversationId)."""

ID_LENGTH = 11
ALERTS_ROOM = "alerts"


def new_id() -> str:
    """Return a fresh random 11-character url-safe id."""
    return secrets.token_urlsafe(8)


def is_valid_id(value: object, max_length: int = 64) -> bool:
    """True for a non-empty id-like string (letters, digits, ``_``, ``-``)."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)
