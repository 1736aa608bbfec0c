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


class Burst:
    """The frames one tick hands to the same sockets, in order: each gets all of them.

    A live room's posts of one event-loop iteration leave together, so each socket is
    written once however many frames the tick produced, and the wire bytes of the
    burst are joined once for every socket.
    """

    __slots__ = ("frames", "wire")

    def __init__(self, frames: list[Outbound]) -> None:
        self.frames = frames
        self.wire = frames[0].wire if len(frames) == 1 else b"".join(f.wire for f in frames)
        """Every frame's wire bytes, back to back (a plain attribute: read once a socket)."""


def close_wire(code: int, reason: str) -> bytes:
    body = code.to_bytes(2, "big") + reason.encode()[:120]
    return Frame(Opcode.CLOSE, body).serialize(mask=False)
