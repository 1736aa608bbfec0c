"""Sending one push to every device of a person, through the channel each device needs.

Every attempt writes a ``deliveryLogs`` row per device (method, success, error, the
push service's host only). A device the service says is gone is deleted. Devices the
service asks to try again (429, 5xx, no answer) are retried with capped exponential
backoff, never sooner than its ``Retry-After``; a service that asks to wait longer
than the cap is not retried. The attempts are bounded (``PUSH_ATTEMPTS``).

The rows of one attempt share its ``attemptTime``, which is how the daily cap counts
pushes rather than devices. What a channel learns later (Expo's receipts) is asked
for by :meth:`PushSender.follow_up`: a device found gone then is deleted too, and a
failure is logged (a success is not: the send was already counted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from steeple.push.channel import ChannelRoute
from steeple.push.message import PushMessage, PushOutcome
from steeple.services.context import Context
from steeple.services.push_news import PushNews
from steeple.storage.rows import DeliveryLogRow, DeviceRow, new_delivery_log

log = logging.getLogger(__name__)

BASE_BACKOFF = 1.0

Target = tuple[ChannelRoute, DeviceRow]
"""A device and the channel that reaches it."""


class PushSender:
    def __init__(self, ctx: Context, routes: Sequence[ChannelRoute]) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self.routes = list(routes)
        self.methods = frozenset(route.method for route in self.routes)

    async def push(self, church_id: str, person_id: str, news: PushNews, badge: int) -> bool:
        """Push ``news`` to the person's devices; True if at least one device took it."""
        pending = self._targets(await self._store.devices.for_person(church_id, person_id))
        message = PushMessage(
            title=news.title,
            body=news.body,
            link=news.link,
            badge=badge,
            topic=news.topic,
            urgent=news.urgent,
        )
        delivered = False
        settings = self._ctx.settings
        for attempt in range(settings.push_attempts):
            if not pending:
                break
            results = await self._attempt(pending, message)
            await self._record(news, church_id, person_id, results)
            delivered |= any(outcome.success for _, outcome in results)
            retry = [(target, o) for target, o in results if o.retry_after is not None]
            delay = self._delay(attempt, [o.retry_after or 0.0 for _, o in retry])
            if not retry or delay is None or attempt + 1 == settings.push_attempts:
                break
            await self._ctx.clock.sleep(delay)
            pending = [target for target, _ in retry]
        return delivered

    def _targets(self, devices: list[DeviceRow]) -> list[Target]:
        found: list[Target] = []
        for device in devices:
            token = str(device.get("fcmToken") or "")
            route = next((r for r in self.routes if r.accepts(token)), None)
            if route is not None:
                found.append((route, device))
        return found

    async def _attempt(
        self, targets: list[Target], message: PushMessage
    ) -> list[tuple[Target, PushOutcome]]:
        """One send per channel, the channels side by side."""
        by_route: dict[int, list[Target]] = {}
        for target in targets:
            by_route.setdefault(id(target[0]), []).append(target)
        batches = list(by_route.values())
        answers = await asyncio.gather(*(self._send(batch, message) for batch in batches))
        return [pair for batch, got in zip(batches, answers, strict=True) for pair in got]

    async def _send(
        self, batch: list[Target], message: PushMessage
    ) -> list[tuple[Target, PushOutcome]]:
        route = batch[0][0]
        try:
            outcomes = await route.channel.send(
                [(str(device["fcmToken"]), message) for _, device in batch]
            )
        except Exception as exc:  # a channel must not raise; if it does, log the attempt
            log.exception("%s channel failed", route.method)
            outcomes = [PushOutcome("", False, error=type(exc).__name__)] * len(batch)
        return list(zip(batch, outcomes, strict=True))

    async def _record(
        self,
        news: PushNews,
        church_id: str,
        person_id: str,
        results: list[tuple[Target, PushOutcome]],
    ) -> None:
        now = self._ctx.clock.now()
        await self._store.delivery_logs.add(
            [
                _log_row(news, church_id, person_id, route.method, o, now)
                for (route, _), o in results
            ]
        )
        for (route, device), outcome in results:
            if outcome.success and route.follow_up is not None:
                route.follow_up.remember(outcome, (church_id, person_id, device["id"]), now)
            if outcome.gone:
                await self._store.devices.delete(church_id, device["id"])
            elif not outcome.success and outcome.retry_after is None:
                log.warning("push to %s refused: %s", outcome.host, outcome.error)

    async def follow_up(self) -> int:
        """Act on the later outcomes every channel knows by now; how many there were."""
        now = self._ctx.clock.now()
        settled = 0
        for route in self.routes:
            if route.follow_up is None:
                continue
            for (church_id, person_id, device_id), outcome in await route.follow_up.check(now):
                settled += 1
                if outcome.success:
                    continue
                if outcome.gone:
                    await self._store.devices.delete(church_id, device_id)
                news = PushNews("", "", "", "", None, content_type="receipt")
                row = _log_row(news, church_id, person_id, route.method, outcome, now)
                await self._store.delivery_logs.add([row])
        return settled

    def _delay(self, attempt: int, asked: list[float]) -> float | None:
        """The wait before the next attempt; None if the service asked for longer than
        the cap (it would be called again before it said it is ready)."""
        cap = self._ctx.settings.push_max_backoff
        wanted = max(asked, default=0.0)
        if wanted > cap:
            return None
        backoff: float = min(cap, BASE_BACKOFF * 2.0**attempt)
        return max(wanted, backoff)


def _log_row(
    news: PushNews, church_id: str, person_id: str, method: str, outcome: PushOutcome, now: datetime
) -> DeliveryLogRow:
    content = ((news.content_type or "")[:45] or None, (news.content_id or "")[:45] or None)
    result = (outcome.success, outcome.error or None, outcome.host or None)
    return new_delivery_log(church_id, person_id, content, method, now, result)
