"""The VAPID key pair (RFC 8292) that identifies this server to browsers' push services.

Browsers subscribe with the *public* key, an uncompressed P-256 point in base64url; the
server signs its push requests with the private key. ``VAPID_PRIVATE_KEY`` holds the
private key, either as base64url of its 32 raw bytes (what ``steeple vapid`` and the
usual web-push tools print) or as a PEM block; the public key is derived from it, so
the two can never disagree.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steeple.errors import ConfigError

PRIVATE_KEY_BYTES = 32
PUBLIC_KEY_BYTES = 65
"""An uncompressed point: 0x04, then x and y of 32 bytes each."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ``ValueError`` if it is not base64url."""
    if not text or any(not (ch.isascii() and (ch.isalnum() or ch in "-_=")) for ch in text):
        raise ValueError("not base64url")
    body = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> VapidKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def parse(cls, text: str) -> VapidKeys:
        """The key of a ``VAPID_PRIVATE_KEY`` value; ``ConfigError`` if it is not one."""
        text = text.strip()
        if "-----BEGIN" in text:
            return cls(_from_pem(text))
        try:
            raw = b64url_decode(text)
        except ValueError:
            raise ConfigError("VAPID_PRIVATE_KEY is neither base64url nor PEM") from None
        if len(raw) != PRIVATE_KEY_BYTES:
            raise ConfigError(
                f"VAPID_PRIVATE_KEY must be {PRIVATE_KEY_BYTES} bytes of base64url, not {len(raw)}"
            )
        try:
            return cls(ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
        except ValueError:
            raise ConfigError("VAPID_PRIVATE_KEY is not a valid P-256 private key") from None

    @property
    def private_key_b64(self) -> str:
        value = self.private_key.private_numbers().private_value
        return b64url_encode(value.to_bytes(PRIVATE_KEY_BYTES, "big"))

    @property
    def public_key_b64(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url_encode(point)


def _from_pem(text: str) -> ec.EllipticCurvePrivateKey:
    # Environment variables often carry a PEM block with literal "\n" escapes.
    data = text.replace("\\n", "\n").encode()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError("VAPID_PRIVATE_KEY is not a readable, unencrypted PEM key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) EC key")
    return key


def web_push_keys(setting: str) -> VapidKeys | None:
    """The configured keys, or None when web push is not configured."""
    return VapidKeys.parse(setting) if setting.strip() else None
