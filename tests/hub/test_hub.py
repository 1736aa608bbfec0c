"""The hub on its own: membership, fan-out of one encoded frame, heartbeat and close.

The sockets are :class:`~tests.support.sockets.RecordingSocket`, a small implementation
of the hub's ``Socket`` interface that keeps what the hub hands it; the frames are real
``Outbound`` frames. The edges themselves are covered end to end in ``tests/e2e``.
"""

from __future__ import annotations

import pytest

from steeple.hub import Hub
from steeple.protocol.close_codes import CloseCode
from steeple.protocol.frames import Action
from steeple.protocol.outbound import Burst, Outbound
from steeple.types import Room
from tests.support.sockets import RecordingSocket

ROOM: Room = ("CH1", "conv1")
OTHER: Room = ("CH1", "conv2")


def _frame(room: Room, content: str) -> Outbound:
    return Outbound.of(room[0], room[1], Action.MESSAGE, {"content": content})


def _hub_with(*sockets: RecordingSocket) -> Hub:
    hub = Hub()
    for socket in sockets:
        hub.add(socket)
    return hub


def _room_of(*sockets: RecordingSocket) -> Hub:
    """A hub holding ``sockets``, every one of them in ``ROOM``."""
    hub = _hub_with(*sockets)
    for socket in sockets:
        hub.join(ROOM, socket.socket_id)
    return hub


async def test_a_frame_reaches_every_member_of_its_room_and_no_one_else() -> None:
    ann, bob, cat = RecordingSocket("ann"), RecordingSocket("bob"), RecordingSocket("cat")
    hub = _hub_with(ann, bob, cat)
    assert hub.join(ROOM, "ann") and hub.join(ROOM, "bob") and hub.join(OTHER, "cat")

    assert hub.publish(ROOM, _frame(ROOM, "hello")) == 2
    hub.flush()
    assert ann.contents() == bob.contents() == ["hello"]
    assert cat.frames == []


async def test_every_member_gets_the_same_encoded_frame() -> None:
    sockets = [RecordingSocket(f"s{n}") for n in range(5)]
    hub = _room_of(*sockets)
    frame = _frame(ROOM, "once")
    hub.publish(ROOM, frame)
    hub.flush()
    assert all(socket.frames == [frame] and socket.frames[0] is frame for socket in sockets)


async def test_frames_arrive_in_the_order_they_were_published() -> None:
    ann = RecordingSocket("ann")
    hub = _hub_with(ann)
    hub.join(ROOM, "ann")
    for number in range(10):
        hub.publish(ROOM, _frame(ROOM, str(number)))
    hub.flush()
    assert ann.contents() == [str(n) for n in range(10)]


def test_joining_needs_a_socket_of_this_node() -> None:
    hub = _hub_with(RecordingSocket("ann"))
    assert hub.join(ROOM, "nobody") is False
    assert hub.rooms() == []
    assert list(hub.members(ROOM)) == []
    assert hub.publish(ROOM, _frame(ROOM, "to no one")) == 0


async def test_joining_twice_delivers_once() -> None:
    ann = RecordingSocket("ann")
    hub = _hub_with(ann)
    hub.join(ROOM, "ann")
    hub.join(ROOM, "ann")
    assert hub.publish(ROOM, _frame(ROOM, "one copy")) == 1
    hub.flush()
    assert ann.contents() == ["one copy"]


async def test_a_socket_that_left_gets_nothing_more_and_the_others_still_do() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _hub_with(ann, bob)
    for socket in (ann, bob):
        hub.join(ROOM, socket.socket_id)
        hub.join(OTHER, socket.socket_id)
    hub.publish(ROOM, _frame(ROOM, "before"))
    hub.leave(ROOM, "bob")
    hub.publish(ROOM, _frame(ROOM, "after"))
    hub.publish(OTHER, _frame(OTHER, "elsewhere"))
    hub.flush()
    assert ann.contents() == ["before", "after", "elsewhere"]
    assert bob.contents() == ["before", "elsewhere"]  # still in the other room
    assert list(hub.members(ROOM)) == ["ann"]


def test_leaving_a_room_one_is_not_in_changes_nothing() -> None:
    ann = RecordingSocket("ann")
    hub = _hub_with(ann)
    hub.join(ROOM, "ann")
    hub.leave(OTHER, "ann")
    hub.leave(ROOM, "nobody")
    assert list(hub.members(ROOM)) == ["ann"]
    assert hub.rooms() == [ROOM]


async def test_removing_a_socket_takes_it_out_of_every_room_it_was_in() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _hub_with(ann, bob)
    for room in (ROOM, OTHER):
        hub.join(room, "ann")
    hub.join(ROOM, "bob")

    assert hub.remove("ann") == {ROOM, OTHER}
    assert hub.get("ann") is None and hub.open_among(["ann"]) == set()
    assert hub.publish(ROOM, _frame(ROOM, "after")) == 1
    assert hub.publish(OTHER, _frame(OTHER, "after")) == 0
    hub.flush()
    assert ann.frames == [] and bob.contents() == ["after"]
    assert hub.rooms() == [ROOM]  # a room without members is forgotten
    assert len(hub) == 1


def test_removing_an_unknown_socket_returns_no_rooms() -> None:
    hub = _hub_with(RecordingSocket("ann"))
    assert hub.remove("nobody") == set()
    assert len(hub) == 1


def test_listeners_hear_when_a_room_gets_its_first_member_and_loses_its_last() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _hub_with(ann, bob)
    heard: list[tuple[Room, bool]] = []
    hub.room_listeners.append(lambda room, active: heard.append((room, active)))

    hub.join(ROOM, "ann")
    hub.join(ROOM, "bob")  # not the first: nothing to tell
    hub.leave(ROOM, "ann")  # not the last
    assert heard == [(ROOM, True)]
    hub.remove("bob")
    assert heard == [(ROOM, True), (ROOM, False)]
    hub.join(ROOM, "ann")
    assert heard[-1] == (ROOM, True)


async def test_send_reaches_one_socket_of_this_node() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _hub_with(ann, bob)
    frame = Outbound.of("", "", Action.SOCKET_ID, "ann")
    assert hub.send("ann", frame) is True
    assert hub.send("nobody", frame) is False
    hub.flush()
    assert ann.frames == [frame] and bob.frames == []


async def test_a_slow_consumer_is_closed_without_stalling_the_room() -> None:
    slow, quick = RecordingSocket("slow", limit=2), RecordingSocket("quick")
    hub = _room_of(slow, quick)
    for number in range(5):
        hub.publish(ROOM, _frame(ROOM, str(number)))
    hub.flush()
    assert slow.closed == [(CloseCode.SLOW_CONSUMER, "slow consumer")]
    assert slow.contents() == ["0", "1"]
    assert quick.contents() == [str(n) for n in range(5)]
    hub.remove("slow")  # what the edge does once the socket has closed
    assert hub.publish(ROOM, _frame(ROOM, "later")) == 1


def test_heartbeat_closes_only_the_sockets_that_missed_the_previous_ping() -> None:
    alive, dead = RecordingSocket("alive"), RecordingSocket("dead", answers_pings=False)
    hub = _hub_with(alive, dead)
    assert hub.heartbeat() == 1
    assert dead.closed == [(CloseCode.GOING_AWAY, "missed pong")]
    assert alive.closed == [] and alive.pings == dead.pings == 1


async def test_close_all_closes_every_socket_going_away_unless_told_otherwise() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _hub_with(ann, bob)
    hub.join(ROOM, "ann")
    hub.publish(ROOM, _frame(ROOM, "last words"))
    hub.close_all()
    assert ann.contents() == ["last words"]  # what was published goes out before the close
    assert ann.closed == bob.closed == [(CloseCode.GOING_AWAY, "server shutting down")]

    restarting = RecordingSocket("carl")
    other = _hub_with(restarting)
    other.close_all(CloseCode.SERVICE_RESTART, "node restarting")
    assert restarting.closed == [(CloseCode.SERVICE_RESTART, "node restarting")]


async def test_published_frames_reach_the_sockets_at_the_end_of_the_tick() -> None:
    ann = RecordingSocket("ann")
    hub = _hub_with(ann)
    hub.join(ROOM, "ann")
    hub.publish(ROOM, _frame(ROOM, "soon"))
    assert ann.frames == []  # recorded, not yet handed over
    await ann.payloads(1)  # the loop's next iteration hands it over, unasked
    assert ann.contents() == ["soon"]


async def test_the_frames_of_one_tick_reach_a_socket_as_one_burst() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _room_of(ann, bob)
    for number in range(3):
        hub.publish(ROOM, _frame(ROOM, str(number)))
    hub.flush()
    assert ann.bursts == bob.bursts == 1
    assert ann.contents() == bob.contents() == ["0", "1", "2"]


async def test_a_frame_goes_to_the_members_of_the_moment_it_was_published() -> None:
    ann, bob, cat = RecordingSocket("ann"), RecordingSocket("bob"), RecordingSocket("cat")
    hub = _hub_with(ann, bob, cat)
    hub.join(ROOM, "ann")
    hub.join(ROOM, "bob")
    hub.publish(ROOM, _frame(ROOM, "first"))
    hub.join(ROOM, "cat")  # joins after "first", in the same tick
    hub.leave(ROOM, "bob")  # leaves after "first" and before "second"
    hub.publish(ROOM, _frame(ROOM, "second"))
    hub.remove("ann")
    hub.publish(ROOM, _frame(ROOM, "third"))
    hub.flush()
    assert ann.contents() == ["first", "second"]
    assert bob.contents() == ["first"]
    assert cat.contents() == ["second", "third"]


async def test_a_frame_sent_to_one_socket_keeps_its_place_among_its_rooms_frames() -> None:
    ann, bob = RecordingSocket("ann"), RecordingSocket("bob")
    hub = _room_of(ann, bob)
    hub.publish(ROOM, _frame(ROOM, "before"))
    hub.send("ann", _frame(ROOM, "to ann alone"))
    hub.publish(ROOM, _frame(ROOM, "after"))
    hub.flush()
    assert ann.contents() == ["before", "to ann alone", "after"]
    assert bob.contents() == ["before", "after"]


class BrokenSocket(RecordingSocket):
    def deliver(self, burst: Burst) -> None:
        raise OSError("the descriptor went bad")


async def test_a_socket_that_fails_to_take_its_burst_costs_the_others_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ann, broken, bob = RecordingSocket("ann"), BrokenSocket("broken"), RecordingSocket("bob")
    hub = _room_of(ann, broken, bob)
    hub.publish(ROOM, _frame(ROOM, "for all"))
    hub.flush()
    assert ann.contents() == bob.contents() == ["for all"]
    assert "delivering to socket broken failed" in caplog.text


def test_open_among_names_only_the_candidates_open_on_this_node() -> None:
    hub = _hub_with(RecordingSocket("ann"), RecordingSocket("bob"))
    assert hub.open_among({"ann", "cat"}) == {"ann"}
    hub.remove("ann")
    assert hub.open_among(["ann", "bob"]) == {"bob"}
    assert hub.open_among(set()) == set()
