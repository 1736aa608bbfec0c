"""The Redis channel and key names of one Steeple cluster, all under one prefix.

Several clusters (or test runs) can share a Redis server by choosing different
prefixes (``REDIS_PREFIX``).
"""

from __future__ import annotations

from steeple.types import Room


class ClusterNames:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.control = f"{prefix}:control".encode()
        self.nodes = f"{prefix}:nodes"
        self.direct_any = f"{prefix}:direct".encode()
        """Frames for one socket whose node is not known: every node hears them."""

    def room(self, room: Room) -> bytes:
        """The channel of a room. Ids never contain ``|`` (they are validated identifiers)."""
        return f"{self.prefix}:room:{room[0]}|{room[1]}".encode()

    def inbox(self, node_id: str) -> bytes:
        """The channel on which a node receives replies addressed to it."""
        return f"{self.prefix}:control:{node_id}".encode()

    def direct(self, node_id: str) -> bytes:
        """The channel of frames for single sockets held by one node."""
        return f"{self.prefix}:direct:{node_id}".encode()

    def alive(self, node_id: str) -> str:
        """A node's liveness key; it expires unless the node keeps refreshing it."""
        return f"{self.prefix}:alive:{node_id}"

    def reaping(self, node_id: str) -> str:
        """Held by the survivor that is removing a dead node's connections."""
        return f"{self.prefix}:reaping:{node_id}"

    def tombstone(self, node_id: str) -> str:
        """Set when a node was declared dead, so that it knows if it comes back."""
        return f"{self.prefix}:dead:{node_id}"
