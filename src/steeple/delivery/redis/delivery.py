"""Several nodes over Redis (``DELIVERY_PROVIDER=redis``): each holds its own sockets.

A frame published on a node goes straight to that node's members and, once, to the
Redis channel of its room. A node subscribes to a room's channel only while it has
a member of the room (the hub tells it when a room gains its first or loses its last
local member), so a node with no member of a room never hears of that room's frames.
A frame crosses Redis as its encoded JSON payload, tagged with the sending node (which
ignores its own echo); each receiving node wraps it once and hands the same bytes to
all its members.

Membership changes where the socket lives. ``POST /connections`` may reach any node
behind the load balancer: if the socket is elsewhere, the join is asked of the
cluster on the control channel (:mod:`~steeple.delivery.redis.control`); the holder applies
it and answers once Redis has confirmed its subscription, so "membership takes effect
on return" holds across nodes.

A frame for one socket (:meth:`RedisDelivery.send`, a joiner's own attendance) goes
to the holder's *direct* channel as ``socketId\n`` + payload: the holder is the node
that answered the socket's join, remembered for a while; if none is known, every node
hears it on the cluster's shared direct channel and the holder delivers it.

Nodes watch each other with liveness keys (:mod:`~steeple.delivery.redis.registry`):
when a node dies, one survivor runs the stale-row sweep, which asks every live node
which sockets it holds (:meth:`RedisDelivery.live_socket_ids`) and removes the rest.
Across an outage no frame is silently lost. A node keeps what it publishes while
Redis is away (:mod:`~steeple.delivery.redis.outbox`) and sends it when the link is
back; every room frame carries the publisher's sequence number, so receivers deliver
each frame once and in order (:mod:`~steeple.delivery.redis.ordering`), fill holes
from the publisher's recent frames (:mod:`~steeple.delivery.redis.retention`), and
close with 1012 the sockets of a room whose hole cannot be filled
(:mod:`~steeple.delivery.redis.recovery`).

The node talks to Redis through redis-py (:mod:`~steeple.delivery.redis.uplink`, one
:mod:`~steeple.delivery.redis.session` per connection).
While Redis is unreachable a node keeps serving its own sockets; on reconnection it
resubscribes every room it has members in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from steeple.delivery.base import Delivery
from steeple.delivery.redis.control import ControlBus, Message
from steeple.delivery.redis.frames import decode
from steeple.delivery.redis.names import ClusterNames
from steeple.delivery.redis.ordering import Streams
from steeple.delivery.redis.outbox import Outbox
from steeple.delivery.redis.recovery import Recovery
from steeple.delivery.redis.registry import NodeRegistry
from steeple.delivery.redis.retention import Retention
from steeple.delivery.redis.session import REDIS_ERRORS
from steeple.delivery.redis.uplink import MAX_BACKOFF, RedisUplink
from steeple.hub import Hub
from steeple.protocol.close_codes import CloseCode
from steeple.protocol.outbound import Outbound
from steeple.settings import Settings
from steeple.stopping import cancel_and_wait
from steeple.types import Room, new_id

log = logging.getLogger(__name__)

Sweep = Callable[[], Awaitable[object]]

REPLY_TIMEOUT = 2.0
"""How long a node waits for the others to answer, or for Redis to confirm a subscription."""
FIRST_CONNECT_WAIT = 5.0
CENSUS_CHUNK = 2000
HOLDERS_KEPT = 20_000
"""How many sockets of other nodes a node remembers the holder of (for direct frames)."""
SERVICE_RESTART = CloseCode.SERVICE_RESTART
BUFFER_BYTES = 8 << 20
BUFFER_FRAMES = 20_000


class RedisDelivery(Delivery):
    spans_nodes = True

    def __init__(
        self,
        hub: Hub,
        redis_url: str,
        *,
        prefix: str = "steeple",
        node_name: str = "",
        ttl: float = 10.0,
        sweep: Sweep | None = None,
        buffer_bytes: int = BUFFER_BYTES,
        buffer_frames: int = BUFFER_FRAMES,
    ) -> None:
        self.node_id = _node_id(node_name)
        self._hub = hub
        self._names = ClusterNames(prefix)
        outbox = Outbox(buffer_bytes, buffer_frames)
        self._link = RedisUplink(redis_url, self._received, self._restore, outbox)
        self._retention = Retention(self.node_id, buffer_bytes, buffer_frames)
        self._streams = Streams(self._deliver)
        self._registry = NodeRegistry(self._link, self._names, self.node_id, ttl)
        self._control = ControlBus(
            self._link, self._names, self.node_id, self._answer, REPLY_TIMEOUT
        )
        self._control_channels = set(self._control.channels)
        self._recovery = Recovery(hub, self._streams, self._retention, self._control)
        self._direct_channels = {self._names.direct(self.node_id), self._names.direct_any}
        self._holders: dict[str, str] = {}
        self._channels = {self._names.room(room): room for room in hub.rooms()}
        self._peers: set[str] = set()
        self._sweep = sweep
        self._redis_started = time.monotonic()
        self._census_complete = True
        self._watch: asyncio.Task[None] | None = None
        self.frames_received = 0
        hub.room_listeners.append(self._room_changed)

    @classmethod
    def from_settings(
        cls, settings: Settings, hub: Hub, sweep: Sweep | None = None
    ) -> RedisDelivery:
        return cls(
            hub,
            settings.redis_url,
            prefix=settings.redis_prefix,
            node_name=settings.node_id,
            ttl=settings.node_ttl,
            sweep=sweep,
            buffer_bytes=settings.redis_buffer_bytes,
            buffer_frames=settings.redis_buffer_frames,
        )

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._link.start(FIRST_CONNECT_WAIT)
        self._watch = asyncio.create_task(self._watch_peers())

    async def stop(self) -> None:
        if self._watch is not None:
            await cancel_and_wait(self._watch, "the watch over the other nodes")
        if self._link.up:
            with contextlib.suppress(*REDIS_ERRORS):
                await self._registry.leave()
        await self._link.stop()
        self._recovery.stop()
        with contextlib.suppress(ValueError):
            self._hub.room_listeners.remove(self._room_changed)

    async def ready(self) -> None:
        """Return once Redis is reachable and every room's subscription is in place."""
        await self._link.wait_up()

    async def _restore(self) -> None:
        """After every (re)connection: subscriptions, liveness, the view of the peers, and
        (in the background) what the peers published while this node heard nothing."""
        since = self._link.down_since or time.time()
        self._link.subscribe([*self._control.channels, *self._direct_channels, *self._channels])
        await self._link.settled(REPLY_TIMEOUT)
        self._redis_started = time.monotonic() - await self._registry.redis_uptime()
        await self._heartbeat()
        self._peers = (await self._registry.nodes())[0]
        if self._channels and self._peers:
            self._recovery.spawn(self._recovery.sync(set(self._peers), since))

    # --- fan-out -----------------------------------------------------------------------

    async def publish(self, room: Room, frame: Outbound) -> None:
        self._hub.publish(room, frame)
        stamped = self._retention.stamp(room, frame.payload)
        self._link.publish(self._names.room(room), stamped.encode())

    def _received(self, channel: bytes, data: bytes) -> None:
        room = self._channels.get(channel)
        if room is not None:
            frame = decode(data)
            if frame is None:
                log.warning("ignored an unreadable frame on %r", channel)
            elif frame.origin != self.node_id:
                self.frames_received += 1
                self._recovery.arrived(room, frame)
        elif channel in self._control_channels:
            self._control.received(channel, data)
        elif channel in self._direct_channels:
            cut = data.find(b"\n")
            if cut > 0:
                self._hub.send(data[:cut].decode(), Outbound(data[cut + 1 :]))

    def _deliver(self, room: Room, payload: bytes) -> None:
        self._hub.publish(room, Outbound(payload))

    def _room_changed(self, room: Room, active: bool) -> None:
        channel = self._names.room(room)
        if active:
            self._channels[channel] = room
            self._link.subscribe([channel])
        else:
            self._channels.pop(channel, None)
            self._streams.forget(room)
            self._link.unsubscribe([channel])

    async def send(self, socket_id: str, frame: Outbound) -> None:
        if self._hub.send(socket_id, frame):
            return
        holder = self._holders.get(socket_id)
        channel = self._names.direct_any if holder is None else self._names.direct(holder)
        # Not kept across an outage: the room's own paced frame follows anyway.
        self._link.publish(channel, socket_id.encode() + b"\n" + frame.payload, while_down=False)

    # --- membership ----------------------------------------------------------------------

    async def join(self, room: Room, socket_id: str) -> bool:
        if self._hub.get(socket_id) is not None:
            await self._join_here(room, socket_id)
            return True
        return await self._ask_holder("join", room, socket_id)

    async def leave(self, room: Room, socket_id: str) -> None:
        if self._hub.get(socket_id) is not None:
            self._hub.leave(room, socket_id)
        else:
            await self._ask_holder("leave", room, socket_id)

    async def _join_here(self, room: Room, socket_id: str) -> None:
        self._hub.join(room, socket_id)
        await self._link.settled(REPLY_TIMEOUT)

    async def _ask_holder(self, op: str, room: Room, socket_id: str) -> bool:
        """Have the node holding ``socket_id`` apply the change; False if nobody holds it.

        While Redis is down no other node can be asked: the socket counts as not open
        here, so a join fails rather than storing a viewer nobody can vouch for.
        """
        request = {"op": op, "room": list(room), "socket": socket_id}
        asked = set(self._peers)
        replies = await self._control.ask(request, asked, _holds)
        if self._found_holder(socket_id, replies):
            return True
        if not self._link.up:
            return False
        try:  # a node that started since the last heartbeat may hold it
            self._peers = (await self._registry.nodes())[0]
        except REDIS_ERRORS:
            return False
        if not self._peers - asked:
            return False
        replies = await self._control.ask(request, self._peers - asked, _holds)
        return self._found_holder(socket_id, replies)

    def _found_holder(self, socket_id: str, replies: dict[str, Message]) -> bool:
        """Whether a node said it holds the socket; if so, remember which."""
        holder = next((node for node, reply in replies.items() if _holds(reply)), None)
        if holder is None:
            return False
        if len(self._holders) >= HOLDERS_KEPT:
            del self._holders[next(iter(self._holders))]  # the longest known
        self._holders[socket_id] = holder
        return True

    async def _answer(self, request: Message) -> Message:
        """Another node's question about the sockets held here."""
        op = request.get("op")
        if op == "census":
            return {"held": [s for s in request.get("ids", ()) if self._hub.get(s) is not None]}
        if op in ("replay", "sync"):
            return self._recovery.answer(request)
        if op not in ("join", "leave"):
            return {}
        room, socket_id = _room(request.get("room")), str(request.get("socket"))
        if self._hub.get(socket_id) is None:
            return {"held": False}
        if op == "join":
            await self._join_here(room, socket_id)
        else:
            self._hub.leave(room, socket_id)
        return {"held": True}

    # --- liveness and stale rows -------------------------------------------------------

    async def live_socket_ids(self, candidates: set[str]) -> set[str]:
        """Sockets held here or by a live peer. When in doubt (Redis down, a peer silent,
        Redis just restarted) every candidate counts as live: rows of a live node are
        never removed; a later sweep finishes the job."""
        local = self._hub.open_among(candidates)
        if local == candidates:
            return local
        held = await self._held_elsewhere(candidates - local)
        if held is None:
            self._census_complete = False
            log.info("cannot tell which sockets the other nodes hold; keeping their rows")
            return set(candidates)
        return local | held

    async def _held_elsewhere(self, socket_ids: set[str]) -> set[str] | None:
        if not self._link.up or not self._view_settled():
            return None
        try:
            alive, _ = await self._registry.nodes()
        except REDIS_ERRORS:
            return None
        held: set[str] = set()
        ids = sorted(socket_ids)
        for start in range(0, len(ids), CENSUS_CHUNK):
            request = {"op": "census", "ids": ids[start : start + CENSUS_CHUNK]}
            replies = await self._control.ask(request, alive)
            if not alive <= replies.keys():
                return None
            for reply in replies.values():
                held.update(reply.get("held", ()))
        return held

    def _view_settled(self) -> bool:
        """After a Redis restart, give every live node time to register again."""
        return time.monotonic() - self._redis_started >= self._registry.ttl + MAX_BACKOFF

    async def _watch_peers(self) -> None:
        interval = self._registry.ttl / 3
        while True:
            await asyncio.sleep(interval)
            if self._link.up:
                try:
                    await self._watch_once()
                except Exception:
                    log.exception("watching the other nodes failed")

    async def _watch_once(self) -> None:
        try:
            await self._heartbeat()
            await self._link.check(REPLY_TIMEOUT)
            self._peers, dead = await self._registry.nodes()
        except REDIS_ERRORS as exc:
            log.warning(
                "redis did not answer the heartbeat (%s: %s); reconnecting", type(exc).__name__, exc
            )
            self._link.reset()
            return
        if dead:
            await self._reap(dead)

    async def _heartbeat(self) -> None:
        if not await self._registry.heartbeat():
            return
        log.warning(
            "this node was declared dead while cut off; closing its %d sockets so "
            "that their clients reconnect and rejoin",
            len(self._hub),
        )
        self._hub.close_all(SERVICE_RESTART, "node restarting")
        await self._registry.recover()
        await self._registry.heartbeat()

    async def _reap(self, dead: set[str]) -> None:
        """Claim dead nodes, then run the sweep; forget them once it saw every live node."""
        if self._sweep is None or not self._view_settled():
            return
        try:
            claimed = [node for node in sorted(dead) if await self._registry.claim(node)]
            if not claimed:
                return
            log.warning("nodes %s stopped heartbeating; removing their connections", claimed)
            self._census_complete = True
            await self._sweep()
            if self._census_complete:
                for node in claimed:
                    await self._registry.forget(node)
        except Exception:
            log.exception("clearing up after dead nodes %s failed; will retry", sorted(dead))

    def health(self) -> dict[str, Any]:
        link = self._link
        report: dict[str, Any] = {
            "ok": link.up,
            "provider": "redis",
            "node": self.node_id,
            "redis": "up" if link.up else "down",
            "peers": sorted(self._peers),
            "rooms": len(self._channels),
            "reconnects": link.reconnects,
            "droppedPublishes": link.dropped,
            "framesReceived": self.frames_received,
            "buffered": len(link.outbox),
            "bufferedBytes": link.outbox.size,
            "framesReplayed": self._recovery.replayed,
            "framesLost": self._recovery.holes_lost,
            "socketsClosedForGaps": self._recovery.sockets_closed,
        }
        if link.down_since is not None:
            report["downForSeconds"] = round(time.time() - link.down_since, 1)
        return report

    def register_metrics(self, registry: CollectorRegistry) -> None:
        link, recovery = self._link, self._recovery
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "steeple_redis_up": ("1 while the link to Redis is up, else 0", lambda: link.up),
            "steeple_redis_buffered_frames": ("Publishes waiting for Redis", link.outbox.__len__),
            "steeple_redis_buffered_bytes": ("Bytes waiting for Redis", lambda: link.outbox.size),
            "steeple_redis_dropped_publishes": (
                "Publishes dropped, buffer full",
                lambda: link.dropped,
            ),
            "steeple_redis_frames_replayed": (
                "Missed frames a peer sent again",
                lambda: recovery.replayed,
            ),
            "steeple_redis_gap_closes": (
                "Sockets closed (1012) for lost frames",
                lambda: recovery.sockets_closed,
            ),
        }
        for name, (what, read) in gauges.items():
            Gauge(name, what, registry=registry).set_function(read)


def _holds(reply: Message) -> bool:
    return bool(reply.get("held"))


def _room(value: object) -> Room:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
        return (value[0], value[1])
    raise ValueError(f"not a room: {value!r}")


def _node_id(name: str) -> str:
    """``NODE_ID`` (or the host name) plus a per-process suffix: a restarted process is a
    new node, so survivors clear up after the old one without mistaking it for the new."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "", name or socket.gethostname())[:40] or "node"
    return f"{base}-{new_id()[:6]}"
