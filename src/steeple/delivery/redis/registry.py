"""Which nodes of the cluster are alive, and who clears up after one that died.

Each node refreshes a liveness key with a TTL (``NODE_TTL``) and is listed in a set
of known nodes. A listed node whose key has expired stopped heartbeating (killed,
frozen, or cut off from Redis). One survivor claims it, removes the connection rows
of sockets that no live node holds, and then forgets it.

Both sides use a script so that Redis decides atomically, and a node that was cut off
and comes back learns that it was declared dead (its "tombstone") instead of carrying
on with sockets whose rows are gone: it then closes them so that their clients
reconnect and rejoin.
"""

from __future__ import annotations

import logging

from steeple.delivery.redis.names import ClusterNames
from steeple.delivery.redis.uplink import RedisUplink

log = logging.getLogger(__name__)

TOMBSTONE_SECONDS = 24 * 3600

# KEYS: alive, nodes, tombstone. ARGV: node id, ttl in ms. Returns 1 if declared dead.
HEARTBEAT = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 1 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 0
"""

# KEYS: alive, reaping, tombstone of the suspect. ARGV: claimer, lock ms, tombstone s.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[3])
return 1
"""


class NodeRegistry:
    def __init__(self, link: RedisUplink, names: ClusterNames, node_id: str, ttl: float) -> None:
        self._link = link
        self._names = names
        self.node_id = node_id
        self.ttl = ttl

    async def heartbeat(self) -> bool:
        """Refresh this node's liveness; True means it had been declared dead meanwhile."""
        names, me = self._names, self.node_id
        fenced = await self._link.client.eval(
            HEARTBEAT,
            3,
            names.alive(me),
            names.nodes,
            names.tombstone(me),
            me,
            int(self.ttl * 1000),
        )
        return bool(fenced)

    async def recover(self) -> None:
        """After closing its sockets, a node declared dead rejoins the cluster."""
        await self._link.client.delete(self._names.tombstone(self.node_id))

    async def nodes(self) -> tuple[set[str], set[str]]:
        """(alive, dead) among the other known nodes."""
        client = self._link.client
        listed = {_text(n) for n in await client.smembers(self._names.nodes)}
        others = sorted(listed - {self.node_id})
        if not others:
            return set(), set()
        flags = await client.mget([self._names.alive(n) for n in others])
        alive = {n for n, flag in zip(others, flags, strict=True) if flag is not None}
        return alive, set(others) - alive

    async def claim(self, node_id: str) -> bool:
        """Become the survivor that clears up after ``node_id``; False if not ours to do."""
        names = self._names
        claimed = await self._link.client.eval(
            CLAIM,
            3,
            names.alive(node_id),
            names.reaping(node_id),
            names.tombstone(node_id),
            self.node_id,
            int(self.ttl * 3000),
            TOMBSTONE_SECONDS,
        )
        return bool(claimed)

    async def forget(self, node_id: str) -> None:
        """The dead node's connections are gone: stop listing it."""
        await self._link.client.srem(self._names.nodes, node_id)

    async def leave(self) -> None:
        """A clean shutdown: the node's sockets are closed and its rows removed already."""
        me, client = self.node_id, self._link.client
        await client.srem(self._names.nodes, me)
        await client.delete(self._names.alive(me))

    async def redis_uptime(self) -> float:
        """Seconds since the Redis server started (it forgets everything on a restart)."""
        info = await self._link.client.info("server")
        return float(info.get("uptime_in_seconds", 0))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
