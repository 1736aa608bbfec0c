"""A browser's side of Web Push: its own P-256 key pair and auth secret, as
``PushManager.subscribe`` makes them, and the decryption a browser does on arrival."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steeple.push.vapid import b64url_encode


@dataclass
class BrowserKeys:
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """What ``JSON.stringify(subscription)`` gives the page, to send to the server."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url_encode(point), "auth": b64url_encode(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291: the sender's key travels in the aes128gcm header (keyid)."""
        plaintext: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return plaintext
