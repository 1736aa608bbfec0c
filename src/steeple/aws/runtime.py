"""One Lambda container's steeple: a node that listens on nothing, on one lasting loop.

A warm container serves many invocations, one at a time. Its database pool, boto3
client and event loop are built once and kept, so the loop must outlive every
invocation (pooled database connections belong to the loop that opened them).
Each invocation ends with :meth:`LambdaRuntime.settle`: a frozen container would
otherwise keep its attendance updates and queued frames until some later event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from steeple.delivery.aws import AwsDelivery
from steeple.errors import ConfigError
from steeple.node import Node
from steeple.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class LambdaRuntime:
    """Builds the node's storage, delivery, services and web app, without ``start()``."""

    def __init__(self, settings: Settings) -> None:
        _check(settings)
        self.loop = asyncio.new_event_loop()
        self.node = Node(settings)
        if not isinstance(self.node.delivery, AwsDelivery):
            raise ConfigError("the Lambda entry points need the aws delivery")
        self.delivery: AwsDelivery = self.node.delivery
        self._prepared = False

    def enter(self) -> None:
        """Make this runtime's loop the thread's current loop (Mangum looks it up)."""
        asyncio.set_event_loop(self.loop)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run one invocation's work to completion, side effects included."""
        self.enter()
        return self.loop.run_until_complete(self.invoke(work))

    async def invoke(self, work: Awaitable[T]) -> T:
        try:
            await self._prepare()
            return await work
        finally:
            await self.settle()

    async def _prepare(self) -> None:
        if self._prepared:
            return
        if self.node.settings.migrate_on_start:
            await self.node.store.migrate()
        self._prepared = True

    async def settle(self) -> None:
        """Finish background work, due attendance frames, queued pushes (and held ones
        now due) and every queued post.

        Posting may find gone connections, whose removal makes more attendance due,
        so this repeats until a round queues nothing new.
        """
        push = self.node.services.push
        while True:
            await self.node.ctx.drain()
            pushed = push is not None and await push.flush()
            if not await self.delivery.flush() and not pushed:
                return

    def close(self) -> None:
        """Release the database pool and the thread pool (tests; Lambda never calls it)."""
        self.enter()
        self.loop.run_until_complete(self.node.stop())
        self.loop.close()


def _check(settings: Settings) -> None:
    if settings.delivery_provider != "aws":
        raise ConfigError("the Lambda entry points need DELIVERY_PROVIDER=aws")
    if settings.generated:
        names = ", ".join(settings.generated)
        raise ConfigError(
            f"{names} must be set on Lambda: each container would otherwise invent its own secret"
        )
