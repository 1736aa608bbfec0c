"""Questions to the other nodes of the cluster, and their answers, over Redis pub/sub.

A request is published once on the cluster's control channel, which every node
subscribes to; each node answers on the asker's own inbox channel. The asker says
which nodes it expects to hear from and which answer settles the question early
(e.g. "I hold that socket"), so a request costs one publish plus one reply per node,
and nobody waits for a node that already answered.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from steeple.delivery.redis.names import ClusterNames
from steeple.delivery.redis.uplink import RedisUplink

log = logging.getLogger(__name__)

Message = dict[str, Any]
Answer = Callable[[Message], Awaitable[Message]]
Settles = Callable[[Message], bool]


class _Question:
    def __init__(self, peers: set[str], settles: Settles | None) -> None:
        self.peers = peers
        self.settles = settles
        self.replies: dict[str, Message] = {}
        self.done = asyncio.get_running_loop().create_future()

    def heard(self, reply: Message) -> None:
        self.replies[str(reply.get("from"))] = reply
        settled = self.settles is not None and self.settles(reply)
        if (settled or self.peers <= self.replies.keys()) and not self.done.done():
            self.done.set_result(None)


class ControlBus:
    def __init__(
        self, link: RedisUplink, names: ClusterNames, node_id: str, answer: Answer, timeout: float
    ) -> None:
        self._link = link
        self._names = names
        self._node_id = node_id
        self._answer = answer
        self._timeout = timeout
        self._inbox = names.inbox(node_id)
        self._ids = itertools.count(1)
        self._questions: dict[int, _Question] = {}
        self._answering: set[asyncio.Task[None]] = set()

    @property
    def channels(self) -> list[bytes]:
        return [self._names.control, self._inbox]

    async def ask(
        self, request: Message, peers: set[str], settles: Settles | None = None
    ) -> dict[str, Message]:
        """Ask every node; return the replies heard from ``peers`` (by node id).

        Returns when ``settles`` accepts a reply, when every peer has answered, or after
        the timeout, whichever is first; the caller judges whether that is enough.
        """
        if not peers:
            return {}
        number = next(self._ids)
        question = self._questions[number] = _Question(peers, settles)
        message = {**request, "rid": number, "from": self._node_id}
        try:
            if self._link.publish(self._names.control, orjson.dumps(message), while_down=False):
                await asyncio.wait_for(question.done, self._timeout)
        except TimeoutError:
            missing = sorted(peers - question.replies.keys())
            log.warning("no answer from nodes %s to %s", missing, request.get("op"))
        finally:
            del self._questions[number]
        return question.replies

    def received(self, channel: bytes, data: bytes) -> None:
        """A message on one of :attr:`channels`."""
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("ignored an unreadable control message on %r", channel)
            return
        if channel == self._inbox:
            question = self._questions.get(message.get("rid"))
            if question is not None:
                question.heard(message)
        elif message.get("from") != self._node_id:
            task = asyncio.create_task(self._reply(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    async def _reply(self, request: Message) -> None:
        try:
            reply = await self._answer(request)
        except Exception:
            log.exception("could not answer %s from %s", request.get("op"), request.get("from"))
            return
        reply.update(rid=request.get("rid"), **{"from": self._node_id})
        inbox = self._names.inbox(str(request.get("from")))
        self._link.publish(inbox, orjson.dumps(reply), while_down=False)
