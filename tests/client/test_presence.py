"""The presence store: the latest attendance per room, identical snapshots dropped."""

from __future__ import annotations

from steeple.client import AttendanceSnapshot, Frame
from tests.support.client_nodes import MakeClient, live_room
from tests.support.client_tools import Recorder


def names(snapshot: AttendanceSnapshot) -> list[str]:
    return [v.display_name for v in snapshot.viewers]


async def test_identical_attendance_is_not_notified_again(clients: MakeClient) -> None:
    ann = await clients(name="Ann")
    room = await live_room(ann)
    frames, seen = Recorder[Frame](), Recorder[AttendanceSnapshot]()
    ann.socket.add_handler("attendance", "raw", frames)
    ann.presence.subscribe(room, seen)
    await ann.subscriptions.join("CH1", room)
    await seen.until(lambda s: names(s) == ["Ann"])
    received = len(frames.items)

    socket_id = ann.socket.socket_id
    assert socket_id is not None
    await ann.rest.set_name(socket_id, "Ann")  # same name: the server re-sends attendance
    await frames.count_at_least(received + 1)
    assert frames.items[-1].data == frames.items[0].data
    assert len(seen.items) == 1

    bob = await clients(name="Bob")
    await bob.subscriptions.join("CH1", room)
    latest = await seen.until(lambda s: names(s) == ["Ann", "Bob"])
    assert len(seen.items) == 2 and latest.total_viewers == 2
    assert ann.presence.snapshot(room) == latest
