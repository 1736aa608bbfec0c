"""An outbound frame is encoded once: its JSON, its text and its WebSocket wire bytes.

The wire bytes are read back with websockets' own frame parser, so a header of the
wrong length or opcode fails here rather than in a browser.
"""

from __future__ import annotations

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

from steeple.protocol.close_codes import CloseCode
from steeple.protocol.frames import Action, encode_frame
from steeple.protocol.outbound import PING_WIRE, Outbound, close_wire


def _parse(wire: bytes) -> Frame:
    """One server (unmasked) frame; fails if ``wire`` holds more or less than one."""
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    assert reader.at_eof(), "bytes left after the frame"
    frame = done.value.value
    assert isinstance(frame, Frame)
    return frame


def test_of_encodes_the_same_bytes_as_encode_frame() -> None:
    data = {"content": "hello", "n": 3}
    frame = Outbound.of("CH1", "conv1", Action.MESSAGE, data)
    assert frame.payload == encode_frame("CH1", "conv1", Action.MESSAGE, data)


def test_text_is_the_payload_as_str() -> None:
    frame = Outbound.of("CH1", "conv1", Action.MESSAGE, {"content": "héllo 🙏"})
    assert frame.text == frame.payload.decode()
    assert "héllo 🙏" in frame.text


def test_each_representation_is_computed_once_and_kept() -> None:
    frame = Outbound(b'{"action":"message"}')
    assert frame.wire is frame.wire
    assert frame.text is frame.text


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_wire_is_one_unmasked_text_frame_of_the_payload(size: int) -> None:
    payload = b'{"d":"' + b"x" * size + b'"}'
    parsed = _parse(Outbound(payload).wire)
    assert parsed.opcode is Opcode.TEXT and parsed.fin
    assert parsed.data == payload


def test_ping_wire_is_an_empty_ping() -> None:
    parsed = _parse(PING_WIRE)
    assert parsed.opcode is Opcode.PING and parsed.data == b""


def test_close_wire_carries_the_code_and_reason() -> None:
    parsed = _parse(close_wire(CloseCode.SLOW_CONSUMER, "slow consumer"))
    assert parsed.opcode is Opcode.CLOSE
    close = Close.parse(parsed.data)
    assert (close.code, close.reason) == (4008, "slow consumer")


def test_a_long_close_reason_is_cut_to_fit_a_control_frame() -> None:
    parsed = _parse(close_wire(CloseCode.GOING_AWAY, "r" * 500))
    assert len(parsed.data) <= 125  # the most a control frame may carry (RFC 6455 5.5)
    close = Close.parse(parsed.data)
    assert close.code == CloseCode.GOING_AWAY and close.reason == "r" * 120
