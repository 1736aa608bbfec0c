"""Connection rows: who is in which room, through which socket."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import ConnectionRow, ViewerRow, as_rows
from steeple.storage.schema import connections as t
from steeple.storage.transactions import Transactions
from steeple.types import Room


class ConnectionRepository:
    def __init__(self, engine: AsyncEngine, transactions: Transactions) -> None:
        self._engine = engine
        self._transactions = transactions

    async def replace(self, rows: list[ConnectionRow]) -> None:
        """Insert rows, each replacing any row with the same (church, room, socket), in one
        transaction (one round trip to SQLite's writer thread)."""
        # The last of several rows for one (church, room, socket) wins, as if in turn.
        rows = list({(r["churchId"], r["conversationId"], r["socketId"]): r for r in rows}.values())
        if rows:
            await self._transactions.run(partial(_replace, rows))

    async def in_room(self, room: Room) -> list[ConnectionRow]:
        query = select(t).where(_of_room(room))
        async with self._engine.connect() as db:
            return as_rows(ConnectionRow, await db.execute(query.order_by(t.c.displayName, t.c.id)))

    async def viewers(self, room: Room, limit: int) -> tuple[list[ViewerRow], int]:
        """Up to ``limit`` rows sorted by displayName, and the exact total."""
        async with self._engine.connect() as db:
            rows = as_rows(ViewerRow, await db.execute(viewers_query(room, limit)))
            if len(rows) < limit:
                return rows, len(rows)
            total = await db.scalar(select(func.count()).select_from(t).where(_of_room(room)))
        return rows, int(total or 0)

    async def remove(self, room: Room, socket_id: str) -> int:
        query = delete(t).where(_of_room(room), t.c.socketId == socket_id)
        async with self._engine.begin() as db:
            return (await db.execute(query)).rowcount

    async def remove_socket(self, socket_id: str) -> list[Room]:
        """Delete every row of a socket; return the rooms it was in."""
        return await self.remove_sockets([socket_id])

    async def remove_sockets(self, socket_ids: Iterable[str]) -> list[Room]:
        ids = list(socket_ids)
        if not ids:
            return []
        rooms: set[Room] = set()
        async with self._engine.begin() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                found = await db.execute(
                    select(t.c.churchId, t.c.conversationId).where(t.c.socketId.in_(chunk))
                )
                rooms.update((r.churchId, r.conversationId) for r in found)
                await db.execute(delete(t).where(t.c.socketId.in_(chunk)))
        return sorted(rooms)

    async def socket_ids_in_room(self, room: Room, person_id: str | None = None) -> set[str]:
        """The sockets of a room (of one person, if given): a fan-out list without the rows."""
        query = select(t.c.socketId).where(_of_room(room))
        if person_id is not None:
            query = query.where(t.c.personId == person_id)
        async with self._engine.connect() as db:
            return set((await db.scalars(query.distinct())).all())

    async def socket_rows(self, socket_id: str) -> list[ConnectionRow]:
        async with self._engine.connect() as db:
            return as_rows(
                ConnectionRow, await db.execute(select(t).where(t.c.socketId == socket_id))
            )

    async def rename(self, socket_id: str, rooms: list[Room], name: str) -> None:
        async with self._engine.begin() as db:
            for room in rooms:
                await db.execute(
                    update(t)
                    .where(t.c.socketId == socket_id, _of_room(room))
                    .values(displayName=name)
                )

    async def signed_in_names(self, room: Room) -> list[str]:
        """The names the room's signed-in people (rows with a personId) are shown by."""
        query = select(t.c.displayName).where(_of_room(room), t.c.personId.is_not(None))
        async with self._engine.connect() as db:
            return [n for n in (await db.scalars(query.distinct())).all() if n]

    async def socket_ids(self) -> set[str]:
        async with self._engine.connect() as db:
            return set((await db.scalars(select(t.c.socketId).distinct())).all())

    async def highest_anonymous_number(self, room: Room) -> int:
        query = select(t.c.displayName).where(
            _of_room(room), t.c.displayName.like("Anonymous\\_%", escape="\\")
        )
        async with self._engine.connect() as db:
            names = (await db.scalars(query)).all()
        numbers = [int(n[10:]) for n in names if n and n[10:].isdigit()]
        return max(numbers, default=0)


_DELETE_SAME_SOCKET_IN_ROOM = delete(t).where(
    t.c.churchId == bindparam("church"),
    t.c.conversationId == bindparam("conversation"),
    t.c.socketId == bindparam("socket"),
)
"""Built once with bound parameters: every join runs it (see ``storage/messages.py``)."""
_INSERT = t.insert()


def _replace(rows: list[ConnectionRow], db: Connection) -> None:
    db.execute(
        _DELETE_SAME_SOCKET_IN_ROOM,
        [
            {"church": r["churchId"], "conversation": r["conversationId"], "socket": r["socketId"]}
            for r in rows
        ],
    )
    db.execute(_INSERT, rows)


def viewers_query(room: Room, limit: int) -> Select[tuple[str, str, str]]:
    """A room's first ``limit`` viewers in name order (along ``VIEWERS_INDEX``: no sort)."""
    columns = (t.c.id, t.c.displayName, t.c.ipAddress)
    return select(*columns).where(_of_room(room)).order_by(t.c.displayName, t.c.id).limit(limit)


def _of_room(room: Room) -> ColumnElement[bool]:
    return and_(t.c.churchId == room[0], t.c.conversationId == room[1])
