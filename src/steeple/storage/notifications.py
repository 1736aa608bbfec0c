"""Notification rows, and the unread counts a person's bell shows.

Rows with contentType ``privateMessage`` are *shadow rows*: one per (person, thread),
standing for the thread's unread state. They are bookkeeping for private messages,
so the notification list, its counts and its read/delete operations leave them out;
reading or deleting the thread handles them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from steeple.protocol.content_types import ContentType
from steeple.storage.rows import NotificationRow, as_row, as_rows
from steeple.storage.schema import notifications as t
from steeple.storage.schema import private_messages


class NotificationRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, rows: list[NotificationRow]) -> None:
        if rows:
            async with self._engine.begin() as db:
                await db.execute(t.insert(), rows)

    async def with_unread(
        self, church_id: str, content_type: str, content_id: str, people: Iterable[str]
    ) -> set[str]:
        """Which of ``people`` already have an unread notification about this content."""
        query = select(t.c.personId).where(
            t.c.churchId == church_id,
            t.c.contentType == content_type,
            t.c.contentId == content_id,
            t.c.isNew.is_(True),
            t.c.personId.in_(list(people)),
        )
        async with self._engine.connect() as db:
            return set((await db.scalars(query.distinct())).all())

    async def for_person(self, church_id: str, person_id: str) -> list[NotificationRow]:
        query = (
            select(t)
            .where(_general(church_id, person_id))
            .order_by(t.c.timeSent.desc(), t.c.id.desc())
        )
        async with self._engine.connect() as db:
            return as_rows(NotificationRow, await db.execute(query))

    async def mark_read(self, church_id: str, person_id: str) -> int:
        query = (
            update(t).where(_general(church_id, person_id), t.c.isNew.is_(True)).values(isNew=False)
        )
        async with self._engine.begin() as db:
            return (await db.execute(query)).rowcount

    async def delete_for(self, church_id: str, person_id: str) -> int:
        async with self._engine.begin() as db:
            return (await db.execute(delete(t).where(_general(church_id, person_id)))).rowcount

    async def get(self, church_id: str, notification_id: str) -> NotificationRow | None:
        query = select(t).where(t.c.churchId == church_id, t.c.id == notification_id)
        async with self._engine.connect() as db:
            return as_row(NotificationRow, (await db.execute(query)).first())

    async def delete(self, church_id: str, notification_id: str) -> int:
        query = delete(t).where(t.c.churchId == church_id, t.c.id == notification_id)
        async with self._engine.begin() as db:
            return (await db.execute(query)).rowcount

    async def counts(self, church_id: str, person_id: str) -> dict[str, int]:
        """``{notificationCount, pmCount}`` as ``GET /notifications/unreadCount`` answers."""
        unread = (
            select(func.count())
            .select_from(t)
            .where(_general(church_id, person_id), t.c.isNew.is_(True))
        )
        pms = (
            select(func.count())
            .select_from(private_messages)
            .where(
                private_messages.c.churchId == church_id,
                private_messages.c.notifyPersonId == person_id,
            )
        )
        async with self._engine.connect() as db:
            notification_count = int(await db.scalar(unread) or 0)
            pm_count = int(await db.scalar(pms) or 0)
        return {"notificationCount": notification_count, "pmCount": pm_count}

    async def keep_shadow(self, row: NotificationRow) -> None:
        """Make a person's shadow row of a thread unread, inserting ``row`` if there is none.

        ``row`` is a complete notification row whose contentId is the thread id.
        """
        where = (
            t.c.churchId == row["churchId"],
            t.c.personId == row["personId"],
            t.c.contentType == ContentType.PRIVATE_MESSAGE,
            t.c.contentId == row["contentId"],
        )
        changes = {
            "timeSent": row["timeSent"],
            "message": row["message"],
            "triggeredByPersonId": row["triggeredByPersonId"],
        }
        async with self._engine.begin() as db:
            found = await db.scalar(select(t.c.id).where(*where).limit(1))
            if found is None:
                await db.execute(t.insert().values(**row))
            else:
                await db.execute(update(t).where(t.c.id == found).values(isNew=True, **changes))


def _general(church_id: str, person_id: str) -> ColumnElement[bool]:
    """The person's notifications, shadow rows of private-message threads excluded."""
    kind = t.c.contentType
    return (
        (t.c.churchId == church_id)
        & (t.c.personId == person_id)
        & (kind.is_(None) | (kind != ContentType.PRIVATE_MESSAGE))
    )
