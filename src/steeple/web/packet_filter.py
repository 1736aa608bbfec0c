"""A classic BPF filter on a listening socket: SYNs from held addresses never arrive.

Linux runs a socket's filter on every packet the socket receives, a listener's SYNs
included, before the TCP handshake: a dropped SYN costs the process nothing (no
accept, no protocol object, no parsing) and the sender's own stack waits out its
retransmission timer. The program checks the IPv4 source address against the held
ones, two instructions each (a jump of one if unequal, a drop), so every jump stays
within cBPF's 8-bit offsets however many there are. Other packets (IPv6 and all that
is not held) pass whole. Accepted connections inherit the filter of the moment they
were accepted, which never drops their own peer, so swapping filters never harms
an open connection.

Only IPv4 addresses (and IPv4-mapped IPv6 ones) are filtered here; held IPv6 callers
are turned away in user space by :class:`~steeple.web.http_protocol.TimedHttpProtocol`.
Where the kernel refuses (not Linux, or no permission) :func:`drop_sources` says so and
the caller relies on that user-space check alone.
"""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import struct
import sys
from collections.abc import Iterable

SO_ATTACH_FILTER = 26
"""Linux's option number (``asm-generic/socket.h``); Python's socket module lacks it."""
MAX_FILTERED = 1_500
"""Most addresses in one program (cBPF allows 4,096 instructions; each costs two)."""

_SKF_NET_OFF = -0x100000  # loads relative to the network (IP) header
_LD_B_ABS, _LD_W_ABS = 0x30, 0x20
_AND_K, _JEQ_K, _RET_K = 0x54, 0x15, 0x06
_PASS, _DROP = 0xFFFFFFFF, 0
_INSTRUCTION = struct.Struct("HBBI")


def ipv4_of(address: str) -> int | None:
    """The address as the 32-bit number the filter compares, if it is IPv4."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ip.ipv4_mapped  # type: ignore[assignment]
    return int(ip) if isinstance(ip, ipaddress.IPv4Address) else None


def program(sources: Iterable[int]) -> list[tuple[int, int, int, int]]:
    """Drop IPv4 packets from ``sources``; pass everything else."""
    code = [
        (_LD_B_ABS, 0, 0, _SKF_NET_OFF & 0xFFFFFFFF),  # version and header length
        (_AND_K, 0, 0, 0xF0),
        (_JEQ_K, 1, 0, 0x40),  # IPv4: skip the next instruction
        (_RET_K, 0, 0, _PASS),
        (_LD_W_ABS, 0, 0, (_SKF_NET_OFF + 12) & 0xFFFFFFFF),  # source address
    ]
    for source in sources:
        code += [(_JEQ_K, 0, 1, source), (_RET_K, 0, 0, _DROP)]
    code.append((_RET_K, 0, 0, _PASS))
    return code


def drop_sources(sock: socket.socket, addresses: Iterable[str]) -> bool:
    """Replace ``sock``'s filter with one dropping these addresses (the first
    :data:`MAX_FILTERED` IPv4 ones); False where the kernel cannot."""
    if sys.platform != "linux":
        return False
    sources = [n for n in map(ipv4_of, addresses) if n is not None][:MAX_FILTERED]
    code = program(sources)
    instructions = ctypes.create_string_buffer(b"".join(_INSTRUCTION.pack(*i) for i in code))
    fprog = struct.pack("HL", len(code), ctypes.addressof(instructions))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError:
        return False
    return True
