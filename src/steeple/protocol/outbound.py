"""An outbound frame, encoded once: JSON bytes, and lazily the WebSocket wire bytes."""

from __future__ import annotations

from websockets.frames import Frame, Opcode

from steeple.protocol.frames import Action, encode_frame

PING_WIRE = Frame(Opcode.PING, b"").serialize(mask=False)


class Outbound:
    """One frame for many sockets. Each representation is computed at most once."""

    __slots__ = ("_text", "_wire", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._wire: bytes | None = None
        self._text: str | None = None

    @classmethod
    def of(cls, church_id: str, conversation_id: str, action: Action, data: object) -> Outbound:
        return cls(encode_frame(church_id, conversation_id, action, data))

    @property
    def wire(self) -> bytes:
        """The complete unmasked text frame, header included, for a raw transport."""
        if self._wire is None:
            self._wire = Frame(Opcode.TEXT, self.payload).serialize(mask=False)
        return self._wire

    @property
    def text(self) -> str:
        """The payload as ``str``, for ASGI sockets."""
        if self._text is None:
            self._text = self.payload.decode()
        return self._text


def close_wire(code: int, reason: str) -> bytes:
    body = code.to_bytes(2, "big") + reason.encode()[:120]
    return Frame(Opcode.CLOSE, body).serialize(mask=False)
