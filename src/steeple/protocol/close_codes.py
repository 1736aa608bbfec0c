"""Every WebSocket close code Steeple sends, named once, so a typo fails the type check.

The standard codes are RFC 6455 section 7.4.1 and the IANA registry; 4008 is ours.
Comparing an ``int`` with a member works, so clients and tests may do either.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL_CLOSURE = 1000
    """The ASGI edge's default when a socket ends without a reason."""
    GOING_AWAY = 1001
    """Shutdown, or a socket that missed a pong."""
    POLICY_VIOLATION = 1008
    """A WebSocket request on a path that serves no socket."""
    MESSAGE_TOO_BIG = 1009
    """An inbound frame over the edge's limit (sent by the websockets protocol)."""
    SERVICE_RESTART = 1012
    """This node lost its cluster and restarts its sockets so they rejoin elsewhere."""
    SLOW_CONSUMER = 4008
    """A socket that could not keep up with its rooms; the client reconnects and catches up."""
