"""At most N open sockets per client address on this node (``MAX_SOCKETS_PER_ADDRESS``).

One script on one laptop could otherwise open sockets until the node runs out of file
descriptors. The address is the one ``ClientAddress`` gives for the handshake, so
behind a trusted proxy it is the viewer's, not the proxy's. Both edges take a place
before the handshake is answered and give it back when the socket closes, however it
closes; a refused handshake is answered with HTTP 429.
"""

from __future__ import annotations

from steeple.web.call import ClientAddress


class SocketCap:
    """Counts open sockets per client address; ``limit`` 0 means no cap."""

    def __init__(self, limit: int, client_address: ClientAddress) -> None:
        self.limit = limit
        self._client_address = client_address
        self._open: dict[str, int] = {}

    def admit(self, peer: str, forwarded_for: str | None) -> str | None:
        """Take a place for one more socket; the address it counts against, or None if full.

        The caller gives the place back with ``release(address)`` when the socket closes.
        """
        address = self._client_address(peer, forwarded_for)
        held = self._open.get(address, 0)
        if self.limit and held >= self.limit:
            return None
        self._open[address] = held + 1
        return address

    def release(self, address: str) -> None:
        held = self._open.get(address, 0) - 1
        if held > 0:
            self._open[address] = held
        else:
            # Forget the address, so a flood of one-off addresses leaves nothing behind.
            self._open.pop(address, None)

    def refusal(self) -> str:
        """The problem a refused handshake names."""
        return f"too many open sockets from this address (at most {self.limit})"
