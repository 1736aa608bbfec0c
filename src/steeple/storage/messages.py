"""Messages. Saving one also updates its conversation's stats, in one transaction."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from steeple.storage.message_writes import MessageWrites
from steeple.storage.rows import MessageRow, as_row, as_rows
from steeple.storage.schema import HISTORY_INDEX, conversations, message_reactions
from steeple.storage.schema import messages as t
from steeple.storage.transactions import Transactions

_ORDER = (t.c.timeSent, t.c.id)
SUBSCRIPTION = "subscription"
"""The messageType of a person's notification switch for a conversation."""
SUBSCRIPTION_OFF = "off"


class MessageRepository:
    def __init__(
        self, engine: AsyncEngine, transactions: Transactions, writes: MessageWrites
    ) -> None:
        self._engine = engine
        self._transactions = transactions
        self._writes = writes

    async def add(self, rows: list[MessageRow]) -> None:
        """Store new messages and bump postCount/firstPostId/lastPostId of each conversation,
        in one transaction (one round trip to SQLite's writer thread)."""
        try:
            await self._transactions.run(partial(_write_posts, rows))
        except BaseException:
            self._writes.changed({row["conversationId"] for row in rows})
            raise
        self._writes.added(rows)

    async def edit(self, message: MessageRow) -> None:
        """Store a message's new content, name and ``timeUpdated``."""
        with self._writes.changing([message["conversationId"]]):
            async with self._engine.begin() as db:
                await db.execute(
                    update(t)
                    .where(t.c.id == message["id"])
                    .values(
                        content=message["content"],
                        displayName=message["displayName"],
                        timeUpdated=message["timeUpdated"],
                    )
                )

    async def get(self, message_id: str, church_id: str | None = None) -> MessageRow | None:
        query = select(t).where(t.c.id == message_id)
        if church_id is not None:
            query = query.where(t.c.churchId == church_id)
        async with self._engine.connect() as db:
            return as_row(MessageRow, (await db.execute(query)).first())

    async def in_conversation(
        self, conversation_id: str, after: MessageRow | None = None, limit: int | None = None
    ) -> list[MessageRow]:
        """Messages oldest first, from the first or from the one after ``after``; at most
        ``limit`` of them, read along ``ix_messages_conversation`` and stopped there, so a
        page costs the same in a room of ten messages or of a million."""
        query = _history(conversation_id)
        if after is not None:
            query = query.where(_stored_after(after))
        query = query.order_by(*_ORDER)
        if limit is not None:
            query = query.limit(limit)
        async with self._engine.connect() as db:
            return as_rows(MessageRow, await db.execute(query))

    async def newest(self, conversation_id: str, limit: int) -> list[MessageRow]:
        """The last ``limit`` messages of a conversation, oldest first."""
        query = _history(conversation_id).order_by(*[c.desc() for c in _ORDER]).limit(limit)
        async with self._engine.connect() as db:
            return list(reversed(as_rows(MessageRow, await db.execute(query))))

    async def page(self, conversation_id: str, page: int, limit: int) -> list[MessageRow]:
        """One page of messages, newest first."""
        query = (
            select(t)
            .where(t.c.conversationId == conversation_id)
            .order_by(t.c.timeSent.desc(), t.c.id.desc())
            .offset((page - 1) * limit)
            .limit(limit)
        )
        async with self._engine.connect() as db:
            return as_rows(MessageRow, await db.execute(query))

    async def many(self, ids: list[str]) -> list[MessageRow]:
        if not ids:
            return []
        async with self._engine.connect() as db:
            return as_rows(MessageRow, await db.execute(select(t).where(t.c.id.in_(ids))))

    async def subscribers(self, conversation_id: str) -> set[str]:
        """People whose latest message here is an ordinary one or a ``subscription``
        message other than ``"off"`` (PROTOCOL.md 7): one window query, so a long
        thread costs one pass over its messages, not one query per person."""
        latest = (
            select(
                t.c.personId,
                t.c.messageType,
                t.c.content,
                func.row_number()
                .over(partition_by=t.c.personId, order_by=[t.c.timeSent.desc(), t.c.id.desc()])
                .label("rank"),
            )
            .where(t.c.conversationId == conversation_id, t.c.personId.is_not(None))
            .subquery()
        )
        switched_off = and_(
            latest.c.messageType == SUBSCRIPTION, latest.c.content == SUBSCRIPTION_OFF
        )
        query = select(latest.c.personId).where(
            latest.c.rank == 1, or_(latest.c.messageType.is_(None), ~switched_off)
        )
        async with self._engine.connect() as db:
            return set((await db.scalars(query)).all())

    async def delete(self, message: MessageRow) -> None:
        """Delete a message and keep its conversation's stats true."""
        conversation_id = message["conversationId"]
        with self._writes.changing([conversation_id]):
            async with self._engine.begin() as db:
                await db.execute(delete(t).where(t.c.id == message["id"]))
                await db.execute(
                    delete(message_reactions).where(message_reactions.c.messageId == message["id"])
                )
                first = await db.scalar(_edge(conversation_id, newest=False))
                last = await db.scalar(_edge(conversation_id, newest=True))
                count = await db.scalar(
                    select(func.count()).select_from(t).where(t.c.conversationId == conversation_id)
                )
                await db.execute(
                    update(conversations)
                    .where(conversations.c.id == conversation_id)
                    .values(firstPostId=first, lastPostId=last, postCount=count)
                )


def _history(conversation_id: str) -> Select[Any]:
    query = select(t).where(t.c.conversationId == conversation_id)
    for dialect in ("mysql", "mariadb"):
        # Given ORDER BY ... LIMIT, MariaDB would otherwise read the index from the
        # room's first message up to the cursor (ref access on conversationId alone):
        # a page deep in a big room then costs as much as the room.
        query = query.with_hint(t, f"FORCE INDEX ({HISTORY_INDEX})", dialect)
    return query


def _stored_after(cursor: MessageRow) -> ColumnElement[bool]:
    """Rows after ``cursor`` in (timeSent, id) order. The ``timeSent >=`` range is what
    lets the database seek the index to the cursor; the rest only settles ties."""
    when = cursor["timeSent"]
    return and_(t.c.timeSent >= when, or_(t.c.timeSent > when, t.c.id > cursor["id"]))


def _edge(conversation_id: str, newest: bool):  # type: ignore[no-untyped-def]
    order = [c.desc() for c in _ORDER] if newest else list(_ORDER)
    return select(t.c.id).where(t.c.conversationId == conversation_id).order_by(*order).limit(1)


def _write_posts(rows: list[MessageRow], db: Connection) -> None:
    db.execute(_INSERT, rows)
    for conversation_id, (count, first, last) in _posts_per_conversation(rows).items():
        db.execute(
            _STATS_AFTER_POSTS,
            {"conversation": conversation_id, "count": count, "first": first, "last": last},
        )


def _posts_per_conversation(rows: list[MessageRow]) -> dict[str, tuple[int, str, str]]:
    """conversationId -> (how many, first id, last id) of rows in stored order."""
    found: dict[str, tuple[int, str, str]] = {}
    for row in sorted(rows, key=lambda r: (r["timeSent"], r["id"])):
        count, first, _ = found.get(row["conversationId"], (0, row["id"], ""))
        found[row["conversationId"]] = (count + 1, first, row["id"])
    return found


def _stats_after_posts() -> Update:
    """postCount, firstPostId and lastPostId after posts to one conversation.

    Built once, with bound parameters: a chat post runs it every time, and building and
    keying a statement costs more than SQLite takes to run it.
    """
    c = conversations.c
    return (
        update(conversations)
        .where(c.id == bindparam("conversation"))
        .values(
            postCount=func.coalesce(c.postCount, 0) + bindparam("count"),
            lastPostId=bindparam("last"),
            firstPostId=case((c.firstPostId.is_(None), bindparam("first")), else_=c.firstPostId),
        )
    )


_INSERT = t.insert()
_STATS_AFTER_POSTS = _stats_after_posts()
