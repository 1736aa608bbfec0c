"""The staggered heartbeat: each tick pings the next slice of the sockets, oldest first;
a round of ticks pings each socket once; a socket silent for a whole round is closed."""

from __future__ import annotations

from websockets.frames import Opcode

from steeple.heartbeat import StaggeredHeartbeat, slices_for
from steeple.hub import GOING_AWAY
from steeple.node import Node
from tests.support.rawsocket import RawSocket
from tests.support.wsclient import TestSocket


async def frames_until_id(raw: RawSocket) -> list[Opcode]:
    """Opcodes received before the answer to a fresh getId (which marks 'now')."""
    raw.send_text("getId")
    seen = []
    while (frame := await raw.next_frame()) is not None and frame.opcode is not Opcode.TEXT:
        seen.append(frame.opcode)
    return seen


async def test_a_tick_pings_one_slice_and_a_round_pings_every_socket_once(node: Node) -> None:
    raws = [await RawSocket.connect(node.socket_url) for _ in range(6)]
    for raw in raws:
        await raw.get_id()
    heartbeat = StaggeredHeartbeat(node.hub, 30.0, slices=3)
    assert heartbeat.period == 10.0
    assert heartbeat.tick() == 0
    assert [await frames_until_id(r) for r in raws] == [[Opcode.PING]] * 2 + [[]] * 4
    heartbeat.tick()
    heartbeat.tick()
    assert [await frames_until_id(r) for r in raws] == [[]] * 2 + [[Opcode.PING]] * 4
    for raw in raws:
        raw.abort()


async def test_a_socket_that_never_pongs_is_closed_one_round_later(node: Node) -> None:
    silent = await RawSocket.connect(node.socket_url)
    await silent.get_id()
    alive = await TestSocket.connect(node.socket_url)  # websockets answers pings
    heartbeat = StaggeredHeartbeat(node.hub, 2.0, slices=2)
    heartbeat.tick()  # round 1: the silent socket (the oldest)
    assert await frames_until_id(silent) == [Opcode.PING]
    heartbeat.tick()  # round 1: the live one, which pongs
    for _ in range(2):  # 1st reply: the ping was read (and ponged); 2nd: the pong was
        await alive.ws.send("getId")
        await alive.next("socketId")
    assert heartbeat.tick() == 1  # round 2: the silent socket missed its pong
    code, _ = await silent.close_code()
    assert code == GOING_AWAY
    assert heartbeat.tick() == 0  # the live one answered
    await alive.ws.send("getId")
    assert (await alive.next("socketId"))["data"] == alive.socket_id
    silent.abort()
    await alive.close()


def test_slices_are_about_a_second_apart_and_at_most_thirty() -> None:
    assert [slices_for(s) for s in (0.2, 1.0, 10.0, 30.0, 300.0)] == [1, 1, 10, 30, 30]
