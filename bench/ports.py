"""Free ports for a benchmark's servers, chosen where no client socket can take them.

A port the kernel hands out for ``bind(0)`` lies in the ephemeral range, the same range
every client socket's local port comes from: between choosing a server's port and the
server binding it, one of the generator's thousands of sockets can take it (a spike run
once failed so). Ports below that range are never handed to a client, so they are
chosen there, at random, and checked free.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000


def ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (32768 if it cannot be read)."""
    try:
        return int(PORT_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port(host: str = "127.0.0.1") -> int:
    """A port below the ephemeral range that nothing listens on or holds now."""
    high = ephemeral_low()
    for _ in range(1_000):
        port = random.randrange(LOWEST, high) if high > LOWEST + 100 else 0
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            chosen: int = sock.getsockname()[1]
            return chosen
    raise RuntimeError(f"no free port between {LOWEST} and {high}")
