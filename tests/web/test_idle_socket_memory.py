"""What an idle socket keeps: neither its handshake nor an encoder's working buffer.

An idle socket's memory is what a node with 20,000 viewers pays 20,000 times. Two
things used to ride along with every open socket: the handshake request (websockets'
parser keeps it as a local of its generator), and the 4 KiB buffer orjson returns
its output in, behind the socket's cached ``socketId`` answer.
"""

from __future__ import annotations

import gc
import tracemalloc
import types

from websockets.server import ServerProtocol

from steeple.node import Node
from steeple.protocol.frames import Action, encode_frame
from tests.support.wsclient import TestSocket


def handshakes_held() -> int:
    """Server-side parsers (generators of ``ServerProtocol.parse``) still alive, each
    holding the request it parsed."""
    gc.collect()
    code = ServerProtocol.parse.__code__
    return sum(
        1
        for thing in gc.get_objects()
        if isinstance(thing, types.GeneratorType) and thing.gi_code is code
    )


async def test_an_open_socket_keeps_nothing_of_its_handshake(node: Node) -> None:
    before = handshakes_held()
    sockets = [await TestSocket.connect(node.socket_url) for _ in range(5)]
    try:
        for socket in sockets:  # each answered its getId: frames parse after the handshake
            assert socket.socket_id
        assert handshakes_held() == before
        assert all(node.hub.get(s.socket_id) is not None for s in sockets)
    finally:
        for socket in sockets:
            await socket.close()


def test_an_encoded_frame_is_held_in_a_buffer_of_its_own_size() -> None:
    tracemalloc.start()
    try:
        frames = [encode_frame("", "", Action.SOCKET_ID, f"id{n:09d}") for n in range(200)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(frames[0]) < 100
    assert held < 200 * 512  # orjson's own buffer would be 200 x 4 KiB
