"""The Delivery interface. Services publish through it and never know which backend runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from prometheus_client import CollectorRegistry

from steeple.errors import PayloadTooLarge
from steeple.protocol.outbound import Outbound
from steeple.types import Room


class FrameTooLarge(PayloadTooLarge):
    """A frame the backend would refuse: it is sent to no one, and what it describes
    is not stored either when the caller checked it first (:meth:`Delivery.check_frame`)."""


class Delivery(ABC):
    """Moves encoded frames to the sockets of a room.

    Guarantees every implementation keeps (checked by the delivery contract suite):

    * **Caller persists first.** ``publish`` is called only after the data the frame
      describes is committed; delivery itself stores nothing.
    * **Refusals come before the commit.** A frame over ``max_frame_bytes`` is refused by
      :meth:`check_frame`, which a caller runs before committing; ``publish`` refuses
      (raises :class:`FrameTooLarge`) only frames the caller did not check.
    * **At most once, per socket.** A socket that is a member of the room when the
      frame is processed receives it once; a socket that joins later does not.
    * **Ordered per publisher and room.** Frames published one after another to a room
      by one caller arrive at each socket in that order.
    * **Encoded once.** The same bytes go to every recipient (once per node).
    * **Never blocks on a socket.** ``publish`` returns without waiting for any
      recipient; a recipient that cannot keep up is closed (and recovers by catch-up).
    * **Membership takes effect on return.** After ``join`` returns, frames published
      to the room reach the socket; after ``leave`` returns, they no longer do.
    """

    spans_nodes = False
    """True when other processes publish to the same rooms (several nodes, Lambda)."""

    max_frame_bytes: int | None = None
    """The largest frame payload the backend carries; None when it has no limit."""

    limit_owner = "the delivery's"
    """Whose limit ``max_frame_bytes`` is, for the refusal's message."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect to whatever the backend needs."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Release the backend's resources."""

    @abstractmethod
    async def publish(self, room: Room, frame: Outbound) -> None:
        """Send ``frame`` to every socket of ``room``."""

    @abstractmethod
    async def send(self, socket_id: str, frame: Outbound) -> None:
        """Send ``frame`` to that one socket, wherever it is held; nothing if it is gone.

        Used for what concerns one socket only (a joiner's own attendance snapshot),
        so the rest of its rooms never pays for it.
        """

    @abstractmethod
    async def join(self, room: Room, socket_id: str) -> bool:
        """Make ``socket_id`` a recipient of the room's frames.

        False when no open socket with that id is known anywhere in the deployment:
        socketIds are capabilities, and a join for a socket that is not open must not
        count a phantom viewer (PROTOCOL.md 4, connections).
        """

    @abstractmethod
    async def leave(self, room: Room, socket_id: str) -> None:
        """Stop delivering the room's frames to ``socket_id``."""

    @abstractmethod
    async def live_socket_ids(self, candidates: set[str]) -> set[str]:
        """Which of ``candidates`` belong to a socket that still exists anywhere."""

    def register_metrics(self, registry: CollectorRegistry) -> None:  # noqa: B027 - optional
        """Add the backend's own gauges to ``/metrics``."""

    def check_frame(self, frame: Outbound) -> None:
        """Raise :class:`FrameTooLarge` if the backend would refuse ``frame``."""
        size = len(frame.payload)
        if self.max_frame_bytes is not None and size > self.max_frame_bytes:
            raise FrameTooLarge(
                f"a frame of {size} bytes is over {self.limit_owner} "
                f"{self.max_frame_bytes}-byte message limit; it was not sent"
            )

    def health(self) -> dict[str, Any]:
        """A small status report for ``/health``; ``ok`` false means degraded."""
        return {"ok": True}
