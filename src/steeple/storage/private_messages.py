"""Private-message threads: one row per person pair, pointing at a conversation.

``notifyPersonId`` is the unread flag: the person who has not yet read the latest
message of the thread, or NULL.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from steeple.protocol.content_types import ContentType
from steeple.storage.message_writes import MessageWrites
from steeple.storage.rows import ConversationRow, PrivateMessageRow, as_row, plain
from steeple.storage.schema import conversations, message_reactions, messages, notifications
from steeple.storage.schema import private_messages as t


class PrivateMessageRepository:
    def __init__(self, engine: AsyncEngine, writes: MessageWrites) -> None:
        self._engine = engine
        self._writes = writes

    async def for_conversation(self, conversation_id: str) -> PrivateMessageRow | None:
        async with self._engine.connect() as db:
            found = await db.execute(select(t).where(t.c.conversationId == conversation_id))
            return as_row(PrivateMessageRow, found.first())

    async def get(self, church_id: str, thread_id: str) -> PrivateMessageRow | None:
        query = select(t).where(t.c.id == thread_id, t.c.churchId == church_id)
        async with self._engine.connect() as db:
            return as_row(PrivateMessageRow, (await db.execute(query)).first())

    async def between(
        self, church_id: str, person_a: str, person_b: str
    ) -> PrivateMessageRow | None:
        """The thread of this person pair, whichever of them opened it (oldest if several)."""
        pair = or_(
            and_(t.c.fromPersonId == person_a, t.c.toPersonId == person_b),
            and_(t.c.fromPersonId == person_b, t.c.toPersonId == person_a),
        )
        query = select(t).where(t.c.churchId == church_id, pair).order_by(t.c.id).limit(1)
        async with self._engine.connect() as db:
            return as_row(PrivateMessageRow, (await db.execute(query)).first())

    async def create(
        self, thread: PrivateMessageRow, conversation: ConversationRow | None = None
    ) -> None:
        """Insert a thread, and in the same transaction the conversation it opens."""
        async with self._engine.begin() as db:
            if conversation is not None:
                await db.execute(conversations.insert().values(**conversation))
            await db.execute(t.insert().values(**thread))

    async def inbox(
        self, church_id: str, person_id: str
    ) -> list[tuple[PrivateMessageRow, ConversationRow]]:
        """(thread, conversation) pairs of one person, newest activity first."""
        last = messages.alias("last")
        activity = func.coalesce(last.c.timeSent, conversations.c.dateCreated)
        query = (
            select(
                t.c.id.label("pmId"),
                t.c.churchId.label("pmChurchId"),
                t.c.fromPersonId,
                t.c.toPersonId,
                t.c.conversationId,
                t.c.notifyPersonId,
                conversations,
            )
            .join(conversations, conversations.c.id == t.c.conversationId)
            .outerjoin(last, last.c.id == conversations.c.lastPostId)
            .where(t.c.churchId == church_id, _involves(person_id))
            .order_by(activity.desc(), t.c.id)
        )
        async with self._engine.connect() as db:
            rows = [plain(row) for row in await db.execute(query)]
        return [_split_inbox_row(row) for row in rows]

    async def flag(self, thread_id: str, person_id: str) -> None:
        """Mark the thread unread for ``person_id``."""
        async with self._engine.begin() as db:
            await db.execute(update(t).where(t.c.id == thread_id).values(notifyPersonId=person_id))

    async def clear_flag(self, thread: PrivateMessageRow, person_id: str) -> bool:
        """Mark the thread read by ``person_id``; True if it was unread for them.

        The thread's shadow notification row is marked read in the same transaction.
        """
        async with self._engine.begin() as db:
            changed = await db.execute(
                update(t)
                .where(t.c.id == thread["id"], t.c.notifyPersonId == person_id)
                .values(notifyPersonId=None)
            )
            await db.execute(
                update(notifications).where(_shadow(thread, person_id)).values(isNew=False)
            )
        return bool(changed.rowcount)

    async def delete_thread(self, thread: PrivateMessageRow) -> None:
        """Delete a thread with its conversation, messages, reactions and shadow rows."""
        conversation_id = thread["conversationId"]
        with self._writes.changing([conversation_id]):
            async with self._engine.begin() as db:
                await db.execute(delete(t).where(t.c.id == thread["id"]))
                await db.execute(delete(notifications).where(_shadow(thread)))
                await db.execute(
                    delete(message_reactions).where(
                        message_reactions.c.conversationId == conversation_id
                    )
                )
                await db.execute(
                    delete(messages).where(messages.c.conversationId == conversation_id)
                )
                await db.execute(delete(conversations).where(conversations.c.id == conversation_id))


def _involves(person_id: str) -> ColumnElement[bool]:
    return or_(t.c.fromPersonId == person_id, t.c.toPersonId == person_id)


def _shadow(thread: PrivateMessageRow, person_id: str | None = None) -> ColumnElement[bool]:
    """The notification rows that stand for this thread's unread state."""
    where = and_(
        notifications.c.churchId == thread["churchId"],
        notifications.c.contentType == ContentType.PRIVATE_MESSAGE,
        notifications.c.contentId == thread["id"],
    )
    if person_id is not None:
        where = and_(where, notifications.c.personId == person_id)
    return where


def _split_inbox_row(row: dict[str, Any]) -> tuple[PrivateMessageRow, ConversationRow]:
    thread: PrivateMessageRow = {
        "id": row.pop("pmId"),
        "churchId": row.pop("pmChurchId"),
        "fromPersonId": row.pop("fromPersonId"),
        "toPersonId": row.pop("toPersonId"),
        "conversationId": row.pop("conversationId"),
        "notifyPersonId": row.pop("notifyPersonId"),
    }
    return thread, cast(ConversationRow, row)
