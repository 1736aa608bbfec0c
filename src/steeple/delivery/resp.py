"""RESP2, the Redis wire protocol, without I/O: commands to bytes, bytes to replies.

Only what a Steeple node sends and receives is covered: commands are arrays of bulk
strings; replies are simple strings, errors, integers, bulk strings and arrays of
those (pub/sub pushes are arrays too). Feed received bytes in any chunking; each
complete reply comes out exactly once, in order.
"""

from __future__ import annotations

from typing import Any

Part = bytes | str | int | float


class ReplyError(Exception):
    """Redis answered a command with an error (``-ERR ...``)."""


class ProtocolError(Exception):
    """The bytes from the server are not RESP2; the connection must be dropped."""


_INCOMPLETE: Any = object()


def encode_command(*parts: Part) -> bytes:
    """``SET key value`` -> ``*3\\r\\n$3\\r\\nSET\\r\\n...``."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = _as_bytes(part)
        out.append(b"$%d\r\n" % len(data))
        out.append(data)
        out.append(b"\r\n")
    return b"".join(out)


def encode_publish(channel: bytes, message: bytes) -> bytes:
    """A PUBLISH command: the hot path, so built in one step."""
    return b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(channel), channel, len(message), message)


def _as_bytes(part: Part) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode()
    return str(part).encode()


class ReplyParser:
    """Incremental parser: ``feed(data)``, then ``replies()`` for what is complete.

    An error reply comes out as a :class:`ReplyError` instance (not raised): it
    answers one command and the connection stays usable.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def replies(self) -> list[Any]:
        done: list[Any] = []
        position = 0
        while position < len(self._buffer):
            reply, after = self._parse(position)
            if reply is _INCOMPLETE:
                break
            done.append(reply)
            position = after
        if position:
            del self._buffer[:position]
        return done

    def _parse(self, position: int) -> tuple[Any, int]:
        buffer = self._buffer
        end = buffer.find(b"\r\n", position)
        if end < 0:
            return _INCOMPLETE, position
        kind, line, after = buffer[position], bytes(buffer[position + 1 : end]), end + 2
        if kind == 0x24:  # $ bulk string
            return self._bulk(int(line), after)
        if kind == 0x2A:  # * array
            return self._array(int(line), after)
        if kind == 0x3A:  # : integer
            return int(line), after
        if kind == 0x2B:  # + simple string
            return line, after
        if kind == 0x2D:  # - error
            return ReplyError(line.decode(errors="replace")), after
        raise ProtocolError(f"unexpected reply type {chr(kind)!r}")

    def _bulk(self, length: int, start: int) -> tuple[Any, int]:
        if length < 0:
            return None, start
        end = start + length
        if len(self._buffer) < end + 2:
            return _INCOMPLETE, start
        return bytes(self._buffer[start:end]), end + 2

    def _array(self, count: int, position: int) -> tuple[Any, int]:
        if count < 0:
            return None, position
        items: list[Any] = []
        for _ in range(count):
            item, position = self._parse(position)
            if item is _INCOMPLETE:
                return _INCOMPLETE, position
            items.append(item)
        return items, position
