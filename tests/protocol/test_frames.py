"""Server frames as bytes: the shape, the JSON codec, times, and decoding (PROTOCOL.md 2-3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from steeple.protocol.frames import (
    Action,
    decode_frame,
    dumps,
    encode_frame,
    format_time,
    socket_id_frame,
)


def test_a_frame_is_the_four_keys_in_protocol_order() -> None:
    payload = encode_frame("CH1", "conv1", Action.MESSAGE, {"content": "hi"})
    assert payload == (
        b'{"churchId":"CH1","conversationId":"conv1","action":"message","data":{"content":"hi"}}'
    )


def test_the_socket_id_frame_is_exactly_what_clients_wait_for() -> None:
    assert socket_id_frame("abcDEF_-123") == (
        b'{"churchId":"","conversationId":"","action":"socketId","data":"abcDEF_-123"}'
    )


@pytest.mark.parametrize("action", list(Action))
def test_every_action_goes_out_as_its_wire_word(action: Action) -> None:
    decoded = orjson.loads(encode_frame("CH1", "c", action, None))
    assert decoded["action"] == action.value
    assert type(decoded["action"]) is str


def test_the_actions_are_the_protocols_words() -> None:
    assert {a.value for a in Action} == {
        "socketId",
        "message",
        "deleteMessage",
        "reaction",
        "conversationActivity",
        "attendance",
        "blockedIp",
        "callout",
        "roomSettings",
        "notification",
        "privateMessage",
    }


def test_times_are_utc_with_milliseconds_and_z() -> None:
    naive = datetime(2026, 12, 2, 9, 5, 7, 123_999)
    aware = datetime(2026, 12, 2, 10, 5, 7, 123_000, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(naive) == "2026-12-02T09:05:07.123Z"  # truncated, never rounded up
    assert format_time(aware) == "2026-12-02T09:05:07.123Z"
    assert format_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


def test_times_inside_data_are_encoded_the_same_way() -> None:
    payload = encode_frame("CH1", "c", Action.MESSAGE, {"timeSent": datetime(2026, 5, 1, 12)})
    assert orjson.loads(payload)["data"]["timeSent"] == "2026-05-01T12:00:00.000Z"
    assert dumps([datetime(2026, 5, 1, 12)]) == b'["2026-05-01T12:00:00.000Z"]'


def test_a_value_the_codec_does_not_know_is_refused() -> None:
    with pytest.raises(TypeError, match="object"):
        encode_frame("CH1", "c", Action.MESSAGE, {"what": object()})


@pytest.mark.parametrize("as_text", [False, True])
def test_a_frame_decodes_back_to_what_was_encoded(as_text: bool) -> None:
    payload = encode_frame("CH1", "conv1", Action.REACTION, {"emoji": "🙏", "n": [1, 2]})
    decoded = decode_frame(payload.decode() if as_text else payload)
    assert decoded == {
        "churchId": "CH1",
        "conversationId": "conv1",
        "action": "reaction",
        "data": {"emoji": "🙏", "n": [1, 2]},
    }


@pytest.mark.parametrize("payload", [b"[]", b'"message"', b'{"data": 1}', b"7", b"null"])
def test_json_that_is_not_a_frame_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError, match="not a frame"):
        decode_frame(payload)


@pytest.mark.parametrize("payload", [b"", b"{", b"getId", '{"action": }'])
def test_text_that_is_not_json_is_refused(payload: str | bytes) -> None:
    with pytest.raises(ValueError):
        decode_frame(payload)
