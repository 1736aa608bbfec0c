"""Domain identifiers and id generation.

Ids are 11-character strings of ``[A-Za-z0-9_-]``, like ChurchApps' own.
"""

from __future__ import annotations

import secrets

from steeple.protocol.rooms import ALERTS_ROOM

Room = tuple[str, str]
"""A room is the pair (churchId, conversationId)."""

ID_LENGTH = 11


def person_alerts_room(church_id: str, person_id: str) -> Room:
    """The delivery key of one person's ``alerts`` sockets.

    Connection rows keep the wire name ``alerts``; delivery indexes those sockets per
    person under this key, so a frame addressed to one person never reaches another
    person of the same church. ``:`` never occurs in an id, so it cannot collide.
    """
    return (church_id, f"{ALERTS_ROOM}:{person_id}")


def alerts_person(room: Room) -> str | None:
    """The person of a :func:`person_alerts_room` key; None for any other room."""
    prefix, sep, person_id = room[1].partition(":")
    return person_id if sep and prefix == ALERTS_ROOM else None


def new_id() -> str:
    """Return a fresh random 11-character url-safe id."""
    return secrets.token_urlsafe(8)


def is_valid_id(value: object, max_length: int = 64) -> bool:
    """True for a non-empty id-like string (letters, digits, ``_``, ``-``)."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value)
