"""Who may touch a row that belongs to one person (a notification, a device).

The owner may, and so may a holder of the route's permission, both only inside the
row's church (PROTOCOL.md 4.5).
"""

from __future__ import annotations

from steeple.auth.principal import Principal


def is_self(principal: Principal, church_id: str, person_id: str) -> bool:
    return principal.in_church(church_id) and bool(person_id) and principal.person_id == person_id


def owner_or(principal: Principal, church_id: str, owner_id: str | None, permission: str) -> bool:
    if not principal.in_church(church_id):
        return False
    return is_self(principal, church_id, owner_id or "") or principal.can(permission)
