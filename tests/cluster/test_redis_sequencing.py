"""The pieces that keep a Redis blip lossless, fed directly: the outbox, the publisher's
retention and the receiver's ordering of frames."""

from __future__ import annotations

import time

import pytest

from steeple.delivery.redis.frames import RoomFrame, decode
from steeple.delivery.redis.ordering import Streams
from steeple.delivery.redis.outbox import Outbox
from steeple.delivery.redis.retention import Retention
from steeple.errors import ConfigError
from steeple.settings import Settings
from steeple.types import Room
from tests.support.nodes import ENCRYPTION_KEY, JWT_SECRET

ROOM: Room = ("CH1", "c1")
OTHER: Room = ("CH1", "c2")


def test_a_frame_survives_the_wire_format() -> None:
    frame = RoomFrame("node-a1", 7, 3, b'{"action":"message"}')
    assert decode(frame.encode()) == frame
    assert decode(b"node-a1\n{}") is None  # the old format is not mistaken for a frame
    assert decode(b"no newline") is None


def test_the_outbox_drops_the_oldest_past_its_bounds_and_resends_a_failed_batch() -> None:
    outbox = Outbox(max_bytes=1000, max_frames=4)
    for number in range(6):
        outbox.put(b"ch", b"m%d" % number)
    assert outbox.dropped == 2
    assert [m for _, m in outbox.take()] == [b"m2", b"m3", b"m4", b"m5"]
    outbox.sent()
    for number in range(2, 5):
        outbox.put(b"ch", b"m%d" % number)
    assert [m for _, m in outbox.take()] == [b"m2", b"m3", b"m4"]
    outbox.put(b"ch", b"m5")
    outbox.requeue()  # the session failed with the batch on its way
    assert [m for _, m in outbox.take()] == [b"m2", b"m3", b"m4", b"m5"]
    outbox.sent()
    assert (len(outbox), outbox.size) == (0, 0)


def test_the_outbox_bounds_bytes_too() -> None:
    outbox = Outbox(max_bytes=10, max_frames=100)
    outbox.put(b"ch", b"123456")
    outbox.put(b"ch", b"abcdef")
    assert (outbox.dropped, len(outbox)) == (1, 1)


def test_retention_numbers_publishes_and_chains_them_per_room() -> None:
    kept = Retention("a", max_bytes=1 << 20, max_frames=100)
    first, other, second = kept.stamp(ROOM, b"1"), kept.stamp(OTHER, b"x"), kept.stamp(ROOM, b"2")
    assert (first.seq, first.prev) == (1, 0)
    assert (other.seq, other.prev) == (2, 0)
    assert (second.seq, second.prev) == (3, 1)
    assert kept.between(ROOM, 0, 3) == [first, second]
    assert kept.between(ROOM, 1, 3) == [second]


def test_retention_says_where_a_room_stands_for_a_receiver_cut_off_at_a_time() -> None:
    kept = Retention("a", max_bytes=1 << 20, max_frames=2)
    before = kept.stamp(ROOM, b"1")
    since = time.time()
    while time.time() <= since:  # the next publish is strictly later
        pass
    after = kept.stamp(ROOM, b"2")
    assert kept.standing([ROOM, OTHER], since) == {ROOM: (after.seq, before.seq)}
    kept.stamp(ROOM, b"3")
    kept.stamp(ROOM, b"4")  # "2", published after since, has left the ring
    assert kept.standing([ROOM], since)[ROOM][1] is None


def test_streams_deliver_in_order_once_and_hold_behind_a_hole() -> None:
    delivered: list[bytes] = []
    streams = Streams(lambda room, payload: delivered.append(payload))
    frames = [RoomFrame("b", seq, prev, b"%d" % seq) for seq, prev in [(1, 0), (4, 1), (6, 4)]]
    streams.arrive(ROOM, frames[0])
    stream = streams.arrive(ROOM, frames[2])  # 4 is missing
    assert (delivered, stream.behind, stream.hole_end()) == ([b"1"], True, 4)
    streams.arrive(ROOM, frames[1])
    streams.arrive(ROOM, frames[1])  # a copy
    assert delivered == [b"1", b"4", b"6"]
    assert not stream.behind


def test_a_stream_that_gives_up_carries_on_after_the_newest_frame() -> None:
    delivered: list[bytes] = []
    streams = Streams(lambda room, payload: delivered.append(payload))
    streams.arrive(ROOM, RoomFrame("b", 1, 0, b"1"))
    stream = streams.arrive(ROOM, RoomFrame("b", 9, 5, b"9"))
    stream.skip()
    streams.arrive(ROOM, RoomFrame("b", 10, 9, b"10"))
    assert delivered == [b"1", b"10"]


def test_the_buffer_bounds_are_settings() -> None:
    env = {
        "JWT_SECRET": JWT_SECRET,
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DELIVERY_PROVIDER": "redis",
    }
    defaults = Settings.from_env(env)
    assert (defaults.redis_buffer_bytes, defaults.redis_buffer_frames) == (8 << 20, 20_000)
    chosen = Settings.from_env({**env, "REDIS_BUFFER_BYTES": "1024", "REDIS_BUFFER_FRAMES": "5"})
    assert (chosen.redis_buffer_bytes, chosen.redis_buffer_frames) == (1024, 5)
    for name, bad in (("REDIS_BUFFER_FRAMES", "0"), ("REDIS_BUFFER_BYTES", "-1")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**env, name: bad})
    with pytest.raises(ConfigError, match="REDIS_BUFFER_FRAMES must be an integer"):
        Settings.from_env({**env, "REDIS_BUFFER_FRAMES": "many"})
