"""Steeple's rules for one socket, without I/O: each edge feeds it events and acts on its answers.

Three edges hold sockets (the socket port, the ASGI socket of single-port mode, the
AWS ``$default`` function). websockets' sans-I/O ``ServerProtocol`` parses their
frames; what Steeple then does is decided here, once, and tested by feeding events:

* any inbound message, text or binary, is answered with the socketId frame;
* the heartbeat: a ping is sent when one is due; if the previous one was never
  answered, the peer is gone (the hub closes it with 1001). Unless it is evidently
  reading, its pong behind what it reads (in a long burst to a crowd a ping can wait
  behind a socket's backlog for minutes): the ping was queued behind a backlog here
  and the peer acknowledged more of it since the last interval, or the peer
  acknowledged at least :data:`STREAMING` bytes since, or its kernel took the ping and
  its application may still be reading what was ahead of it (:data:`READING_PACE`);
* a socket's backlog is everything not yet sent: its own queue, the transport's
  buffer and the kernel's send queue. Over ``budget`` the socket is closed with
  :data:`~steeple.hub.SLOW_CONSUMER` and its unsent frames are dropped. The kernel's
  share costs a system call, so it is asked for only when it could matter;
* an inbound message larger than :data:`INBOUND_LIMIT` closes the socket with 1009
  (the parser enforces it; the edges configure their parsers from here).

The edges own the I/O: they measure the transport and the kernel, write frames,
close transports and tell the hub.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from enum import Enum

from steeple.hub import SLOW_CONSUMER
from steeple.protocol.frames import socket_id_frame
from steeple.protocol.outbound import Outbound

log = logging.getLogger(__name__)

INBOUND_LIMIT = 64 * 1024
"""Bytes in one inbound message; a larger one closes the socket with 1009."""
ABORT_AFTER = 5.0
"""Seconds a closed socket may take to read its close frame before it is cut off."""
STREAMING = 16 * 1024
"""Bytes a peer that owes a pong must acknowledge in one heartbeat interval to count as
reading: its kernel acknowledges only what its receive buffer has room for, so a steady
stream means its application reads; a peer that hangs is given at most one receive
buffer's worth (and a delayed ACK, a ping or a socketId answer are a few bytes)."""
READING_PACE = 64 * 1024
"""Bytes a peer's application must read at least in one heartbeat interval. A peer whose
kernel acknowledged its ping, but whose application has not answered it, is given one
more interval for every ``READING_PACE`` bytes sent since the last ping it answered:
they may all wait in its receive buffer ahead of the ping (a crowd's reader tens of
seconds behind a burst). Its kernel acknowledges only what that buffer has room for, so
no more than :data:`PEER_BUFFER` is counted: a hung application is given up on at
most ``PEER_BUFFER // READING_PACE`` intervals after its ping arrived."""
PEER_BUFFER = 512 * 1024
"""The most a peer's receive buffer is taken to hold ahead of a ping."""
UNBOUNDED = sys.maxsize
"""The budget of a socket whose outbound queue is someone else's (API Gateway's)."""


@dataclass(frozen=True, slots=True)
class Close:
    """A decision to close a socket: the close frame's code and reason."""

    code: int
    reason: str


SLOW_CLOSE = Close(SLOW_CONSUMER, "slow consumer")


class Backlog(Enum):
    """What :meth:`SocketPolicy.queued` decides about a socket's backlog."""

    FITS = "fits"
    """Within the budget: send it."""
    ASK_KERNEL = "ask kernel"
    """Within the budget only if the kernel has sent enough: call ``kernel_holds``."""
    OVER = "over"
    """Over the budget: close with :data:`SLOW_CLOSE`."""
    CLOSING = "closing"
    """The socket is closing: drop the frame."""


class Beat(Enum):
    """What :meth:`SocketPolicy.heartbeat` decides, once a heartbeat interval."""

    PING = "ping"
    """Send a ping."""
    WAIT = "wait"
    """The last ping is unanswered, but the peer is still reading what was ahead of it."""
    DEAD = "dead"
    """The last ping is unanswered and nothing ahead of it is being read: close."""


# Module-level names for the members: an Enum member looked up on its class costs a few
# hundred nanoseconds on Python 3.11, and these are compared for every frame sent.
FITS, ASK_KERNEL, OVER, CLOSING = Backlog.FITS, Backlog.ASK_KERNEL, Backlog.OVER, Backlog.CLOSING


class SocketPolicy:
    """The state of one socket as Steeple's rules see it (no I/O, no clock)."""

    __slots__ = (
        "_answer",
        "_answered",
        "_awaiting_pong",
        "_beats_since_arrival",
        "_budget",
        "_held",
        "_ping_after",
        "_ping_at",
        "_queued",
        "_read",
        "closing",
        "kernel_cap",
        "open",
        "socket_id",
    )

    def __init__(self, socket_id: str, budget: int = UNBOUNDED, kernel_cap: int = 0) -> None:
        """``kernel_cap``: the most the kernel holds for this socket (its ``SO_SNDBUF``)."""
        self.socket_id = socket_id
        self._budget = budget
        self.kernel_cap = kernel_cap
        self._answer: Outbound | None = None
        self._awaiting_pong = False
        self._read = 0
        self._ping_after = 0
        self._ping_at = 0
        self._answered = 0
        self._beats_since_arrival = 0
        self._queued = 0
        self._held = 0
        self.open = False
        """Known to the hub: from :meth:`opened` until :meth:`forgotten`."""
        self.closing = False
        """A close was decided: nothing more is queued."""

    # --- the socket's life ----------------------------------------------------------------

    def opened(self) -> None:
        """The handshake completed: the hub is told of the socket."""
        self.open = True

    def forgotten(self) -> bool:
        """The socket is gone; True the first time only, when the hub must be told."""
        was_open, self.open = self.open, False
        return was_open

    def close_started(self) -> None:
        """A close frame is on its way: the unsent frames are dropped, later ones too."""
        self.closing = True
        self._queued = 0

    # --- inbound --------------------------------------------------------------------------

    def message_received(self) -> Outbound:
        """Any inbound message: the answer is the socketId frame."""
        if self._answer is None:
            self._answer = Outbound(socket_id_frame(self.socket_id))
        return self._answer

    def pong_received(self) -> None:
        self._awaiting_pong = False
        self._answered = self._ping_at  # it has read everything sent before that ping

    def heartbeat(self, read: int, position: int, backlog: bool) -> Beat:
        """Once an interval. ``read``: the bytes of this socket its peer's kernel has
        acknowledged so far; ``position``: the bytes written or queued so far (a ping
        queued now follows them); ``backlog``: some of them wait here (in the queue or
        the transport), not only in the kernel."""
        previous, self._read = self._read, read
        if not self._awaiting_pong:
            self._awaiting_pong, self._beats_since_arrival = True, 0
            self._ping_at = position
            self._ping_after = position if backlog else 0
            return Beat.PING
        if read > self._ping_at:
            self._beats_since_arrival += 1
        if previous < self._ping_after and read > previous:
            return Beat.WAIT  # still reading its way to the ping
        if read - previous >= STREAMING:
            return Beat.WAIT  # its pong is behind what it is reading on its side
        if 0 < self._beats_since_arrival <= self._owed() // READING_PACE:
            return Beat.WAIT  # its kernel took the ping; its application reads what was ahead
        return Beat.DEAD

    def _owed(self) -> int:
        """What the peer's application may still have had to read when its kernel took the
        ping: what was sent since the last ping it answered, at most a receive buffer."""
        return min(self._ping_at - self._answered, PEER_BUFFER)

    # --- outbound accounting --------------------------------------------------------------

    def queued(self, size: int, transport_held: int) -> Backlog:
        """``size`` bytes joined the socket's own queue; the transport holds ``transport_held``."""
        if self.closing:
            return CLOSING
        self._queued += size
        self._held = self._queued + transport_held
        if not self.open or self._held + self.kernel_cap <= self._budget:
            return FITS
        return ASK_KERNEL

    def unqueued_limit(self) -> int:
        """The most a socket with nothing queued may write at once, unaccounted: whatever
        the kernel still holds, the backlog stays within the budget."""
        return max(0, self._budget - self.kernel_cap)

    def kernel_holds(self, unsent: int) -> Backlog:
        """After ``ASK_KERNEL``: the kernel still holds ``unsent`` bytes of this socket."""
        backlog = self._held + unsent
        if backlog <= self._budget:
            return FITS
        log.warning("socket %s cannot keep up (%d bytes queued); closing", self.socket_id, backlog)
        return OVER

    def handed_over(self, size: int) -> None:
        """``size`` bytes left the socket's own queue for the transport."""
        self._queued = max(0, self._queued - size)

    def queue_emptied(self) -> None:
        """The socket's whole queue left for the transport."""
        self._queued = 0
