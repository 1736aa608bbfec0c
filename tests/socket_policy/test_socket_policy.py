"""Steeple's socket policy, driven by events alone, as websockets tests its Protocol.

No socket, no loop: each test feeds the policy what an edge would (a message, a pong,
a ping due, bytes queued, what the transport and the kernel hold) and checks what it
decides.
"""

from __future__ import annotations

import logging

import orjson
import pytest

from steeple.hub import SLOW_CONSUMER
from steeple.socket_policy import (
    PEER_BUFFER,
    READING_PACE,
    SLOW_CLOSE,
    STREAMING,
    Backlog,
    Beat,
    SocketPolicy,
)

BUDGET = 1_000


def open_policy(kernel_cap: int = 0) -> SocketPolicy:
    policy = SocketPolicy("abcdefghijk", BUDGET, kernel_cap)
    policy.opened()
    return policy


def test_any_message_is_answered_with_the_socket_id_frame() -> None:
    policy = open_policy()
    answer = policy.message_received()
    assert orjson.loads(answer.payload) == {
        "churchId": "",
        "conversationId": "",
        "action": "socketId",
        "data": "abcdefghijk",
    }
    assert policy.message_received() is answer  # encoded once, however often asked


def test_a_ping_is_due_until_one_goes_unanswered() -> None:
    policy = open_policy()
    assert policy.heartbeat(read=0, position=0, backlog=False) is Beat.PING
    policy.pong_received()
    assert policy.heartbeat(read=2, position=2, backlog=False) is Beat.PING
    # Nothing was ahead of the ping: its bytes were acknowledged, and no pong came.
    assert policy.heartbeat(read=4, position=4, backlog=False) is Beat.DEAD
    assert policy.heartbeat(read=4, position=4, backlog=False) is Beat.DEAD
    policy.pong_received()  # a late pong still counts
    assert policy.heartbeat(read=4, position=4, backlog=False) is Beat.PING


def _beats_until_dead(policy: SocketPolicy, read: int, position: int) -> int:
    """Heartbeats with nothing more acknowledged, until the policy gives the peer up."""
    for waited in range(100):
        if policy.heartbeat(read=read, position=position, backlog=False) is Beat.DEAD:
            return waited
    raise AssertionError("never given up on")


def test_a_peer_reading_the_backlog_ahead_of_its_ping_is_alive_until_it_has_read_it() -> None:
    policy = open_policy()
    assert policy.heartbeat(read=1_000, position=100_000, backlog=True) is Beat.PING
    assert policy.heartbeat(read=60_000, position=900_000, backlog=True) is Beat.WAIT
    assert policy.heartbeat(read=100_002, position=900_000, backlog=True) is Beat.WAIT  # arrived
    # and went unanswered: after one more interval for each READING_PACE it may have had
    # to read on its side ahead of the ping, it is gone
    assert _beats_until_dead(policy, 100_100, 900_000) == 100_000 // READING_PACE - 1
    policy.pong_received()
    assert policy.heartbeat(read=100_100, position=900_000, backlog=True) is Beat.PING


def test_a_peer_streaming_what_it_was_sent_is_alive_while_its_pong_waits_on_its_side() -> None:
    policy = open_policy()
    assert policy.heartbeat(read=1_000, position=1_000, backlog=False) is Beat.PING
    assert policy.heartbeat(read=1_000 + STREAMING, position=1_000, backlog=False) is Beat.WAIT
    trickle = 1_000 + 2 * STREAMING - 1
    assert policy.heartbeat(read=trickle, position=1_000, backlog=False) is Beat.DEAD


def test_a_peer_whose_kernel_took_a_burst_and_the_ping_has_time_to_read_them() -> None:
    """A crowd's reader: the kernel took all of a 200 KB burst into the peer's receive
    buffer, then the ping; nothing is left here to watch it read. It is given one interval
    per READING_PACE of what was sent since the ping it last answered."""
    policy = open_policy()
    assert policy.heartbeat(read=10_000, position=10_000, backlog=False) is Beat.PING
    policy.pong_received()  # it has read everything up to 10,000
    burst_end = 10_000 + 200_000
    assert policy.heartbeat(read=burst_end, position=burst_end, backlog=False) is Beat.PING
    assert _beats_until_dead(policy, burst_end + 2, burst_end) == 200_000 // READING_PACE


def test_a_hung_reader_is_given_at_most_a_receive_buffer_of_time() -> None:
    policy = open_policy()
    sent = 50_000_000  # far more than any receive buffer: the peer read most of it
    assert policy.heartbeat(read=sent, position=sent, backlog=False) is Beat.PING
    assert _beats_until_dead(policy, sent + 2, sent) == PEER_BUFFER // READING_PACE


def test_a_peer_that_never_receives_its_ping_is_gone_whatever_was_sent_before() -> None:
    policy = open_policy()
    sent = 5_000_000
    assert policy.heartbeat(read=sent, position=sent, backlog=False) is Beat.PING
    assert policy.heartbeat(read=sent, position=sent, backlog=False) is Beat.DEAD


def test_a_peer_that_stops_reading_its_backlog_is_gone() -> None:
    policy = open_policy()
    assert policy.heartbeat(read=1_000, position=600_000, backlog=True) is Beat.PING
    assert policy.heartbeat(read=1_000, position=600_000, backlog=True) is Beat.DEAD


def test_a_pong_nobody_asked_for_changes_nothing() -> None:
    policy = open_policy()
    policy.pong_received()
    assert policy.heartbeat(read=0, position=0, backlog=False) is Beat.PING
    assert policy.heartbeat(read=0, position=0, backlog=False) is Beat.DEAD


def test_within_the_budget_frames_fit_without_asking_the_kernel() -> None:
    policy = open_policy(kernel_cap=200)
    assert policy.queued(500, transport_held=300) is Backlog.FITS  # 800 + 200 <= 1000


def test_the_kernel_is_asked_only_when_its_share_could_tip_the_budget() -> None:
    policy = open_policy(kernel_cap=200)
    assert policy.queued(500, transport_held=301) is Backlog.ASK_KERNEL
    assert policy.kernel_holds(199) is Backlog.FITS  # 801 + 199 = 1000
    assert policy.queued(0, transport_held=301) is Backlog.ASK_KERNEL
    assert policy.kernel_holds(200) is Backlog.OVER


def test_over_the_budget_is_a_slow_consumer(caplog: pytest.LogCaptureFixture) -> None:
    policy = open_policy()
    assert policy.queued(BUDGET, transport_held=0) is Backlog.FITS  # exactly the budget
    with caplog.at_level(logging.WARNING, logger="steeple.socket_policy"):
        assert policy.queued(1, transport_held=0) is Backlog.ASK_KERNEL
        assert policy.kernel_holds(0) is Backlog.OVER
    assert "socket abcdefghijk cannot keep up (1001 bytes queued)" in caplog.text
    assert (SLOW_CLOSE.code, SLOW_CLOSE.reason) == (SLOW_CONSUMER, "slow consumer")


def test_what_the_transport_holds_counts_as_much_as_the_queue() -> None:
    policy = open_policy()
    assert policy.queued(10, transport_held=BUDGET) is Backlog.ASK_KERNEL
    assert policy.kernel_holds(0) is Backlog.OVER


def test_bytes_handed_to_the_transport_leave_the_queue() -> None:
    policy = open_policy()
    policy.queued(900, transport_held=0)
    policy.handed_over(600)
    assert policy.queued(600, transport_held=0) is Backlog.FITS  # 300 + 600
    policy.queue_emptied()
    assert policy.queued(BUDGET, transport_held=0) is Backlog.FITS
    assert policy.queued(1, transport_held=0) is Backlog.ASK_KERNEL


def test_handing_over_never_counts_below_zero() -> None:
    policy = open_policy()
    policy.queued(10, transport_held=0)
    policy.handed_over(50)
    assert policy.queued(BUDGET, transport_held=0) is Backlog.FITS
    assert policy.queued(1, transport_held=0) is Backlog.ASK_KERNEL


def test_before_the_handshake_nothing_is_a_slow_consumer() -> None:
    policy = SocketPolicy("abcdefghijk", BUDGET)
    assert policy.queued(BUDGET * 5, transport_held=BUDGET) is Backlog.FITS
    policy.opened()
    assert policy.queued(1, transport_held=0) is Backlog.ASK_KERNEL
    assert policy.kernel_holds(0) is Backlog.OVER


def test_a_closing_socket_drops_what_comes_and_forgets_its_backlog() -> None:
    policy = open_policy()
    policy.queued(BUDGET, transport_held=0)
    policy.close_started()
    assert policy.closing is True
    assert policy.queued(1, transport_held=0) is Backlog.CLOSING
    assert policy.queued(BUDGET * 10, transport_held=0) is Backlog.CLOSING


def test_the_hub_is_told_of_a_gone_socket_once() -> None:
    policy = SocketPolicy("abcdefghijk", BUDGET)
    assert policy.forgotten() is False  # never opened: the hub never knew it
    policy.opened()
    assert policy.open is True
    assert policy.forgotten() is True
    assert policy.open is False
    assert policy.forgotten() is False


def test_a_socket_whose_queue_is_someone_elses_has_no_budget_of_ours() -> None:
    policy = SocketPolicy("abcdefghijk")  # an API Gateway connection
    policy.opened()
    assert policy.queued(1 << 40, transport_held=1 << 40) is Backlog.FITS
    assert orjson.loads(policy.message_received().payload)["data"] == "abcdefghijk"
