"""Host-chat room ids: AES-256-CTR, ``base64(iv) + "|" + base64(ciphertext)``.

Compatible with Node's ``crypto.createCipheriv("aes-256-ctr", key, iv)`` where the key
is the 32 bytes of ``ENCRYPTION_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from steeple.errors import BadRequest
from steeple.types import is_valid_id


class HostChatCipher:
    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def encrypt(self, service_id: str) -> str:
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.AES(self._key), modes.CTR(iv)).encryptor()
        body = encryptor.update(service_id.encode()) + encryptor.finalize()
        return base64.b64encode(iv).decode() + "|" + base64.b64encode(body).decode()

    def decrypt(self, room: str) -> str:
        """Return the service id; :class:`BadRequest` for anything that does not decrypt."""
        iv_text, sep, body_text = room.partition("|")
        if not sep:
            raise BadRequest("host-chat room id must be 'iv|ciphertext'")
        try:
            iv = base64.b64decode(iv_text, validate=True)
            body = base64.b64decode(body_text, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("host-chat room id is not base64") from None
        if len(iv) != 16 or not body:
            raise BadRequest("host-chat room id has a bad IV or an empty body")
        decryptor = Cipher(algorithms.AES(self._key), modes.CTR(iv)).decryptor()
        try:
            service_id = (decryptor.update(body) + decryptor.finalize()).decode()
        except UnicodeDecodeError:
            raise BadRequest("host-chat room id does not decrypt") from None
        if not is_valid_id(service_id):
            raise BadRequest("host-chat room id does not decrypt")
        return service_id
