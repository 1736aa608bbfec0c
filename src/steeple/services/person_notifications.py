"""Notifications addressed by person and by id, and the ones an administrator raises.

``create`` and ``sendTest`` deliver the way every notification is delivered: fresh
counts to each sink of :class:`~steeple.services.alerts.Alerts` (the person's
``alerts`` sockets, then push where no socket reaches them). A socket delivery they
make is written to ``deliveryLogs`` (push writes its own rows), so support can see
whether a test reached anyone. ``sendTest`` waits for its push (bounded by the push
timeout) to say ``"push"`` when a device took it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from steeple import validation
from steeple.auth.principal import MESSAGING_ADMIN, Principal
from steeple.errors import BadRequest, NotFound, Unauthorized
from steeple.protocol.content_types import ContentType
from steeple.services.alerts import Alerts
from steeple.services.context import Context
from steeple.services.notifications import NOTIFICATION_CONTENT
from steeple.services.ownership import owner_or
from steeple.services.preference_catalogue import BY_KEY
from steeple.services.push_dispatcher import PushDispatcher
from steeple.services.push_news import PushNews, cut
from steeple.services.reach import SocketReach
from steeple.storage.rows import NotificationRow, new_delivery_log, new_notification
from steeple.types import ID_LENGTH, is_valid_id

MAX_MESSAGE = 2000
MAX_LINK = 100
SOCKET = "socket"
PUSH = "push"
TEST_TITLE = "Test notification"
TEST_BODY = "Push notifications reach this device."
NOTIFICATION_TITLE = "New notification"
TEST_WAIT_MARGIN = 5.0


class PersonNotifications:
    def __init__(
        self, ctx: Context, alerts: Alerts, reach: SocketReach, push: PushDispatcher | None = None
    ) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._alerts = alerts
        self._reach = reach
        self._push = push

    async def for_person(
        self, principal: Principal, church_id: str, person_id: str
    ) -> list[NotificationRow]:
        if not owner_or(principal, church_id, person_id, MESSAGING_ADMIN):
            raise Unauthorized()
        return await self._store.notifications.for_person(church_id, person_id)

    async def get(
        self, principal: Principal, church_id: str, notification_id: str
    ) -> NotificationRow:
        return await self._owned(principal, church_id, notification_id)

    async def delete(self, principal: Principal, church_id: str, notification_id: str) -> None:
        row = await self._owned(principal, church_id, notification_id)
        deleted = await self._store.notifications.delete(church_id, notification_id)
        if deleted and row.get("isNew"):  # the owner's other tabs keep their counts right
            await self._alerts.tell(church_id, row["personId"])

    async def _owned(
        self, principal: Principal, church_id: str, notification_id: str
    ) -> NotificationRow:
        if not principal.in_church(church_id):
            raise Unauthorized()
        row = await self._store.notifications.get(church_id, notification_id)
        if row is None:
            raise NotFound(f"notification {notification_id} not found")
        if not owner_or(principal, church_id, row["personId"], MESSAGING_ADMIN):
            raise Unauthorized()
        return row

    # --- raised by an administrator -----------------------------------------------------

    async def create(self, principal: Principal, body: Any) -> list[NotificationRow]:
        """``{peopleIds, contentType, contentId, message, link?}`` -> one new row each."""
        church_id = _admin(principal)
        entry = validation.an_object(body)
        people = _people(entry.get("peopleIds"))
        template = _template(entry)
        reached = {p for p in people if await self._reach.has_socket(church_id, p)}
        rows = [
            new_notification(
                church_id,
                person_id,
                template.content,
                message=template.message,
                sent=self._ctx.clock.now(),
                triggered_by=principal.person_id or None,
                link=template.link,
                delivery_method=SOCKET if person_id in reached else None,
                category=template.category,
            )
            for person_id in people
        ]
        await self._store.notifications.add(rows)
        for row in rows:
            await self._alerts.tell(
                church_id, row["personId"], title=template.message, push=_row_news(row)
            )
        await self._log(
            [
                (r["churchId"], r["personId"], r["contentType"], r["contentId"])
                for r in rows
                if r["personId"] in reached
            ]
        )
        return rows

    async def send_test(self, principal: Principal, body: Any) -> dict[str, Any]:
        """Nudge one person's screens; say how it reached them (``""``: it did not)."""
        church_id = _admin(principal)
        entry = validation.an_object(body)
        person_id = validation.identifier(entry, "personId", max_length=ID_LENGTH)
        title = validation.text(entry, "title", required=False, default=TEST_TITLE)
        reached = await self._reach.has_socket(church_id, person_id)
        pushed = asyncio.get_running_loop().create_future() if self._push else None
        news = PushNews(
            title=cut(title),
            body=TEST_BODY,
            link="",
            topic="test",
            category=None,
            content_type="test",
            transactional=True,
            pushed=pushed,
        )
        await self._alerts.tell(church_id, person_id, title=title, push=news)
        if reached:
            await self._log([(church_id, person_id, "test", None)])
            return {"method": SOCKET, "success": True}
        return {"method": PUSH if await self._pushed(pushed) else "", "success": True}

    async def _pushed(self, pushed: asyncio.Future[bool] | None) -> bool:
        """Whether the test push reached a device, waiting no longer than a push may."""
        if pushed is None or self._push is None:
            return False
        if not self._push.running:  # Lambda: no workers, so push within this call
            await self._push.flush()
        settings = self._ctx.settings
        wait = settings.push_timeout * settings.push_attempts + TEST_WAIT_MARGIN
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(asyncio.shield(pushed), wait)
        return False

    async def _log(self, deliveries: list[tuple[str, str, str | None, str | None]]) -> None:
        """One socket delivery per (churchId, personId, contentType, contentId)."""
        now = self._ctx.clock.now()
        rows = [
            new_delivery_log(church_id, person_id, (content_type, content_id), SOCKET, now)
            for church_id, person_id, content_type, content_id in deliveries
        ]
        await self._store.delivery_logs.add(rows)


def _row_news(row: NotificationRow) -> PushNews:
    return PushNews(
        title=NOTIFICATION_TITLE,
        body=cut(str(row["message"] or "")),
        link=row["link"] or "",
        topic=f"{row['contentType'] or ''}:{row['contentId'] or row['id']}",
        category=row["category"],
        content_type=row["contentType"],
        content_id=row["contentId"],
    )


def _admin(principal: Principal) -> str:
    if not principal.can(MESSAGING_ADMIN):
        raise Unauthorized()
    return principal.church_id


def _people(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequest("'peopleIds' must be a non-empty array of person ids")
    if len(value) > validation.MAX_BATCH:
        raise BadRequest(f"'peopleIds' may hold at most {validation.MAX_BATCH} ids")
    for person_id in value:
        if not is_valid_id(person_id, ID_LENGTH):
            raise BadRequest(f"'peopleIds' holds {str(person_id)[:20]!r}, not a person id")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class _Template:
    """The columns every created row shares, checked."""

    content: tuple[str, str]
    message: str
    link: str | None
    category: str | None


def _template(entry: dict[str, Any]) -> _Template:
    content_type = validation.text(
        entry, "contentType", required=False, max_length=NOTIFICATION_CONTENT
    )
    if content_type == ContentType.PRIVATE_MESSAGE:  # the private-message bookkeeping rows
        raise BadRequest(f"'contentType' may not be '{ContentType.PRIVATE_MESSAGE}'")
    category = validation.text(entry, "category", required=False, max_length=45)
    if category and category not in BY_KEY:
        raise BadRequest(f"'category' must be one of {', '.join(BY_KEY)}")
    content_id = validation.text(
        entry, "contentId", required=False, max_length=NOTIFICATION_CONTENT
    )
    return _Template(
        content=(content_type, content_id),
        message=validation.text(entry, "message", max_length=MAX_MESSAGE),
        link=validation.text(entry, "link", required=False, max_length=MAX_LINK) or None,
        category=category or None,
    )
