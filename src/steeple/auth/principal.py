"""HS256 JWTs to a :class:`Principal`. Anything that does not verify is anonymous."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

CHAT_HOST = "Chat__Host"
CONTENT_EDIT = "Content__Edit"
PEOPLE_EDIT = "People__Edit"
PEOPLE_CONFIDENTIAL = "People__View Confidential Notes"
MESSAGING_ADMIN = "Messaging__Admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``authenticated`` needs a user id and a church id."""

    user_id: str = ""
    church_id: str = ""
    person_id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)
    group_ids: frozenset[str] = field(default_factory=frozenset)
    leader_group_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return bool(self.user_id and self.church_id)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def can(self, permission: str) -> bool:
        return self.authenticated and permission in self.permissions

    def in_church(self, church_id: str) -> bool:
        return self.authenticated and self.church_id == church_id


ANONYMOUS = Principal()


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, list):
        return frozenset(str(v) for v in value if isinstance(v, str | int))
    return frozenset()


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return str(value) if isinstance(value, str | int) else ""


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    return Principal(
        user_id=_text(claims, "id"),
        church_id=_text(claims, "churchId"),
        person_id=_text(claims, "personId"),
        email=_text(claims, "email"),
        first_name=_text(claims, "firstName"),
        last_name=_text(claims, "lastName"),
        permissions=_strings(claims.get("permissions")),
        group_ids=_strings(claims.get("groupIds")),
        leader_group_ids=_strings(claims.get("leaderGroupIds")),
    )


def decode_token(token: str, secret: str) -> Principal:
    """Verify an HS256 token; no token, a bad one, one without ``exp`` or an expired one
    gives ANONYMOUS."""
    if not token or not secret:
        return ANONYMOUS
    try:
        with warnings.catch_warnings():
            # ChurchApps secrets may be shorter than PyJWT likes; settings warn once.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            # A token that never expires is anonymous (PROTOCOL.md 5.1).
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp"]},
            )
    except jwt.PyJWTError:
        return ANONYMOUS
    if not isinstance(claims, dict):
        return ANONYMOUS
    return principal_from_claims(claims)


def bearer_token(header: str | None) -> str:
    if not header:
        return ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def issue_token(
    secret: str,
    *,
    church_id: str,
    person_id: str,
    user_id: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    permissions: list[str] | None = None,
    group_ids: list[str] | None = None,
    leader_group_ids: list[str] | None = None,
    ttl_seconds: int = 24 * 3600,
) -> str:
    """Sign a development token with the ChurchApps claim names."""
    now = int(time.time())
    claims = {
        "id": user_id or f"u-{person_id}",
        "churchId": church_id,
        "personId": person_id,
        "email": email,
        "firstName": first_name,
        "lastName": last_name,
        "permissions": permissions or [],
        "groupIds": group_ids or [],
        "leaderGroupIds": leader_group_ids or [],
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
