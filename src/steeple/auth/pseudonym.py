"""Per-church pseudonyms for client addresses (PROTOCOL.md 5.5). Raw addresses never leave."""

from __future__ import annotations

import base64
import hashlib
import hmac

PSEUDONYM_PREFIX = "ip-"
"""What every pseudonym starts with, so a block can tell one from a raw address."""


class Pseudonymizer:
    """Keyed hash of (churchId, address): stable per church, different across churches."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"steeple-ip-pseudonym|" + secret.encode()).digest()

    def __call__(self, church_id: str, address: str) -> str:
        if not address:
            return ""
        mac = hmac.new(self._key, f"{church_id}|{address}".encode(), hashlib.sha256).digest()
        return PSEUDONYM_PREFIX + base64.urlsafe_b64encode(mac[:18]).decode()
