"""A group's two feed switches (PROTOCOL.md 5.3), as the posting rule sees them.

ChurchApps keeps ``discussionsEnabled`` and ``announcementsEnabled`` per group in its
membership database. The access rules take them as a plain value, so they stay pure
functions; where the value comes from (a database, a cache, nowhere) is the services'
business.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeedSwitches:
    """``known`` is False for a group the membership database does not hold."""

    discussions: bool = True
    announcements: bool = True
    known: bool = True


ALL_ON = FeedSwitches()
"""Without a membership database both switches count as on (upstream's fallback)."""

UNKNOWN_GROUP = FeedSwitches(discussions=False, announcements=False, known=False)


def switch_on(value: object) -> bool:
    """A stored switch as a bool: ``bit(1)`` (bytes on MySQL/MariaDB, a bit string on
    PostgreSQL), ``tinyint``, ``boolean`` or text; NULL (or empty text) counts as on,
    like the column's default."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, bytes | bytearray | memoryview):
        return any(bytes(value))
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "f", "no", "off", "\x00")
    to_int = getattr(value, "to_int", None)  # asyncpg's BitString
    if callable(to_int):
        return bool(to_int())
    return bool(value)
