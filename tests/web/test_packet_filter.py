"""The listener's packet filter, on real sockets: a held address's SYNs never arrive."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from steeple.web.packet_filter import MAX_FILTERED, drop_sources, ipv4_of, program


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


async def connects(listener: socket.socket, source: str) -> bool:
    """Whether a connection from ``source`` completes its handshake within a second
    (a dropped SYN is retried only after the kernel's 1 s timer)."""
    port = listener.getsockname()[1]
    try:
        opened = asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        _, writer = await asyncio.wait_for(opened, 1.0)
    except TimeoutError:
        return False
    writer.close()
    return True


async def test_a_dropped_address_cannot_connect_while_others_can(
    listener: socket.socket,
) -> None:
    assert drop_sources(listener, ["127.0.0.5"])
    assert not await connects(listener, "127.0.0.5")
    assert await connects(listener, "127.0.0.6")


async def test_a_new_filter_replaces_the_old_one(listener: socket.socket) -> None:
    assert drop_sources(listener, ["127.0.0.5"])
    assert drop_sources(listener, ["127.0.0.7"])
    assert await connects(listener, "127.0.0.5")
    assert not await connects(listener, "127.0.0.7")
    assert drop_sources(listener, [])
    assert await connects(listener, "127.0.0.7")


async def test_the_filter_reaches_past_cbpf_jump_offsets(listener: socket.socket) -> None:
    """Hundreds of addresses (more than an 8-bit jump spans): the last one still drops."""
    many = [f"127.0.{n // 250 + 10}.{n % 250 + 1}" for n in range(MAX_FILTERED)]
    assert drop_sources(listener, many)
    assert not await connects(listener, many[-1])
    assert await connects(listener, "127.0.0.6")


def test_only_ipv4_addresses_are_filtered() -> None:
    assert ipv4_of("127.0.0.5") == 0x7F000005
    assert ipv4_of("::ffff:127.0.0.5") == 0x7F000005
    assert ipv4_of("2001:db8::1") is None
    assert ipv4_of("not an address") is None
    assert len(program([])) == 6
    assert len(program([1, 2, 3])) == 6 + 2 * 3


def test_a_program_never_holds_more_than_cbpf_allows(listener: socket.socket) -> None:
    many = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(3 * MAX_FILTERED)]
    assert drop_sources(listener, many)  # truncated to MAX_FILTERED, so the kernel takes it
    assert len(program(range(MAX_FILTERED))) <= 4096
