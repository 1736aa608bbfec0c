"""What the kernel holds for a socket: bound it, and read how much is still unsent.

A peer that stops reading first fills its own receive window, then this host's send
buffer, and only then Steeple's queue. Left to autotuning, the send buffer grows to
megabytes per socket on Linux, so a limit on Steeple's queue alone lets a stalled
socket hold far more than the budget, and a close frame queued behind all of it
never reaches the peer. A small fixed ``SO_SNDBUF`` bounds that memory; reading the
outstanding bytes (``SIOCOUTQ``) lets the slow-consumer check count it.
"""

from __future__ import annotations

import array
import fcntl
import logging
import socket
import termios

log = logging.getLogger(__name__)

_OUTQ = getattr(termios, "TIOCOUTQ", None)
"""SIOCOUTQ on Linux (same number): bytes written to a TCP socket not yet acknowledged."""


def bound_send_buffer(sock: socket.socket, size: int) -> int:
    """Set ``SO_SNDBUF`` to ``size`` (0 keeps the kernel's); return what the kernel holds.

    Linux doubles the value for its bookkeeping and reports the doubled figure: that
    is the most the kernel will hold for this socket.
    """
    try:
        if size > 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    except OSError as exc:  # not a TCP socket (a test transport), or already closed
        log.debug("cannot bound the send buffer: %s", exc)
        return 0


def unsent_bytes(fd: int) -> int:
    """Bytes the kernel still holds for ``fd`` (0 where the platform cannot tell)."""
    if _OUTQ is None or fd < 0:
        return 0
    answer = array.array("i", [0])
    try:
        fcntl.ioctl(fd, _OUTQ, answer, True)
    except OSError:
        return 0
    return int(answer[0])
