"""Push, off the message path: a bounded queue after the socket frames, and its workers.

The dispatcher is the last :class:`~steeple.services.alerts.NotificationSink`: by the
time it sees an alert, the rows are committed and the socket frames handed to
delivery. It only puts the alert in a bounded queue (no await on anything slow), so
a dead or slow push service cannot slow a room; when the queue is full the push is
dropped, logged and counted (``steeple_push_dropped``), and memory stays bounded.

A worker then decides, per PROTOCOL.md 7.1: no push while the person has a live
``alerts`` socket anywhere (unless ``PUSH_POLICY=always``); then the preference gates;
quiet hours hold the push as a row, released by :meth:`PushDispatcher.release_due`
once they end, collapsed to the newest per conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from steeple.push.channel import ChannelRoute
from steeple.services.alerts import Alert, NotificationSink
from steeple.services.context import Context
from steeple.services.push_gates import PushGates, is_transactional
from steeple.services.push_news import PushNews
from steeple.services.push_sender import PushSender
from steeple.services.reach import SocketReach
from steeple.stopping import cancel_and_wait
from steeple.storage.rows import HeldPushRow
from steeple.types import new_id

log = logging.getLogger(__name__)

ALWAYS = "always"


class PushDispatcher(NotificationSink):
    def __init__(
        self,
        ctx: Context,
        reach: SocketReach,
        routes: Sequence[ChannelRoute],
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._reach = reach
        self._sender = PushSender(ctx, routes)
        self._close = close
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(ctx.settings.push_queue_size)
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0

    @property
    def running(self) -> bool:
        """Workers are taking pushes from the queue (not so on Lambda: see :meth:`flush`)."""
        return bool(self._tasks)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # --- the sink: never waits --------------------------------------------------------------

    async def deliver(self, alert: Alert) -> None:
        if alert.push is None:
            return
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("push queue full (%d): a push was dropped", self._queue.maxsize)
            _settle(alert.push, False)

    async def drained(self) -> None:
        """Wait until every push queued so far has been handled (sent, held or let go)."""
        await self._queue.join()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        settings = self._ctx.settings
        self._tasks = [asyncio.create_task(self._work()) for _ in range(settings.push_workers)]
        self._tasks.append(asyncio.create_task(self._release_every(settings.push_release_interval)))

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task, "a push worker")
        self._tasks = []
        if self._close is not None:
            await self._close()

    # --- the workers ----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            await self._run(await self._queue.get())

    async def flush(self) -> bool:
        """Handle every queued push now, and release due held ones; False if there was
        nothing to do. A Lambda invocation calls this before it returns: a frozen
        container runs no workers between invocations."""
        busy = False
        while not self._queue.empty():
            busy = True
            await self._run(self._queue.get_nowait())
        released = await self.release_due()
        return bool(released + await self._sender.follow_up()) or busy

    async def _run(self, alert: Alert) -> None:
        assert alert.push is not None
        pushed = False
        try:
            pushed = await self._handle(alert.church_id, alert.person_id, alert.push, alert)
        except Exception:
            log.exception("a push could not be handled")
        finally:
            _settle(alert.push, pushed)
            self._queue.task_done()

    async def _handle(
        self, church_id: str, person_id: str, news: PushNews, alert: Alert | None
    ) -> bool:
        """Push now, hold for quiet hours, or let go; True if a device took it."""
        if self._ctx.settings.push_policy != ALWAYS and await self._reach.has_socket(
            church_id, person_id
        ):
            return False
        gates = await PushGates.load(self._store, church_id, person_id)
        if not gates.wants(news.category):
            return False
        now = self._ctx.clock.now()
        if not (news.transactional or is_transactional(news.category)):
            release = gates.quiet_until(now)
            if release is not None:
                await self._store.held_pushes.hold(
                    _held_row(church_id, person_id, news, now, release)
                )
                return False
            if gates.max_per_day is not None and (
                await self._store.delivery_logs.pushes_since(
                    church_id, person_id, self._sender.methods, gates.day_start(now)
                )
                >= gates.max_per_day
            ):
                log.info("daily push cap reached for a person; push not sent")
                return False
        counts = alert.counts if alert is not None else await self._counts(church_id, person_id)
        return await self._sender.push(church_id, person_id, news, sum(counts.values()))

    async def _counts(self, church_id: str, person_id: str) -> dict[str, int]:
        return await self._store.notifications.counts(church_id, person_id)

    # --- quiet hours over -----------------------------------------------------------------

    async def release_due(self) -> int:
        """Send the held pushes whose quiet hours have ended; how many were taken."""
        taken = 0
        for row in await self._store.held_pushes.due(self._ctx.clock.now()):
            if not await self._store.held_pushes.claim(row["id"]):
                continue  # another node took it
            taken += 1
            try:
                await self._handle(row["churchId"], row["personId"], _held_news(row), None)
            except Exception:
                log.exception("a held push could not be sent")
        return taken

    async def _release_every(self, seconds: float) -> None:
        """Held pushes whose quiet hours ended, and what channels learned since."""
        while True:
            try:
                await self.release_due()
                await self._sender.follow_up()
            except Exception:
                log.exception("releasing held pushes or reading receipts failed")
            await asyncio.sleep(seconds)


def _settle(news: PushNews, pushed: bool) -> None:
    if news.pushed is not None and not news.pushed.done():
        news.pushed.set_result(pushed)


def _held_row(
    church_id: str, person_id: str, news: PushNews, now: datetime, release: datetime
) -> HeldPushRow:
    return {
        "id": new_id(),
        "churchId": church_id,
        "personId": person_id,
        "topic": news.topic[:100],
        "category": news.category,
        "contentType": (news.content_type or "")[:45] or None,
        "contentId": (news.content_id or "")[:45] or None,
        "title": news.title[:255],
        "body": news.body,
        "link": news.link[:255],
        "urgent": news.urgent,
        "heldAt": now,
        "releaseAt": release,
    }


def _held_news(row: HeldPushRow) -> PushNews:
    """The held push as news again; the gates are asked again when it is released."""
    return PushNews(
        title=row["title"] or "",
        body=row["body"] or "",
        link=row["link"] or "",
        topic=row["topic"] or "",
        category=row["category"],
        content_type=row["contentType"],
        content_id=row["contentId"],
        urgent=bool(row["urgent"]),
    )
