"""What the kernel holds for a socket: bound it, and read how much is still unsent.

A peer that stops reading first fills its own receive window, then this host's send
buffer, and only then Steeple's queue. Left to autotuning, the send buffer grows to
megabytes per socket on Linux, so a limit on Steeple's queue alone lets a stalled
socket hold far more than the budget, and a close frame queued behind all of it
never reaches the peer. A small fixed ``SO_SNDBUF`` bounds that memory; reading the
outstanding bytes (``SIOCOUTQ``) lets the slow-consumer check count it.

:class:`SendBuffers` is the I/O half of :class:`~steeple.socket_policy.SocketPolicy`'s
outbound accounting: it measures what a transport and the kernel below it hold, for
whichever edge owns the transport.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import logging
import socket
import termios

from steeple.socket_policy import ASK_KERNEL, Backlog, SocketPolicy

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


class SendBuffers:
    """The transport's buffer and the kernel's send queue of one socket, measured.

    ``transport`` may be None (an edge that cannot reach it): then only the socket's
    own queue counts.
    """

    __slots__ = ("_fd", "_transport", "kernel_cap")

    def __init__(self, transport: asyncio.Transport | None, send_buffer: int) -> None:
        self._transport = transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        self._fd = sock.fileno() if sock is not None else -1
        self.kernel_cap = bound_send_buffer(sock, send_buffer) if sock is not None else 0
        """The most the kernel holds for this socket (for ``SocketPolicy``)."""

    def account(self, policy: SocketPolicy, size: int) -> Backlog:
        """Tell ``policy`` of ``size`` queued bytes; its decision (the kernel asked if need be)."""
        held = self._transport.get_write_buffer_size() if self._transport is not None else 0
        verdict = policy.queued(size, held)
        if verdict is ASK_KERNEL:
            verdict = policy.kernel_holds(self.kernel_unsent())
        return verdict

    def unsent(self) -> int:
        """Everything written that the peer has not acknowledged: the transport's buffer and
        the kernel's send queue (a system call)."""
        held = self._transport.get_write_buffer_size() if self._transport is not None else 0
        return held + self.kernel_unsent()

    def kernel_unsent(self) -> int:
        """What the kernel still holds (a system call: ask only on ``ASK_KERNEL``)."""
        return unsent_bytes(self._fd)
