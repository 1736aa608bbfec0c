"""Message reactions: one row per (message, person, emoji)."""

from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.rows import ReactionRow
from steeple.storage.schema import message_reactions as t


class ReactionCount(TypedDict):
    """One emoji on one message: how many reacted with it, and whether the reader did."""

    emoji: str
    count: int
    mine: bool


class ReactionRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def summary(
        self, message_ids: list[str], person_id: str | None
    ) -> dict[str, list[ReactionCount]]:
        """messageId -> ``[{emoji, count, mine}]`` in first-reacted order."""
        if not message_ids:
            return {}
        query = (
            select(t.c.messageId, t.c.emoji, t.c.personId)
            .where(t.c.messageId.in_(message_ids))
            .order_by(t.c.timeAdded, t.c.id)
        )
        async with self._engine.connect() as db:
            rows = (await db.execute(query)).all()
        grouped: dict[str, dict[str, ReactionCount]] = defaultdict(dict)
        for message_id, emoji, who in rows:
            entry = grouped[message_id].setdefault(
                emoji, {"emoji": emoji, "count": 0, "mine": False}
            )
            entry["count"] += 1
            entry["mine"] = entry["mine"] or (person_id is not None and who == person_id)
        return {m: list(e.values()) for m, e in grouped.items()}

    async def toggle(self, row: ReactionRow) -> bool | None:
        """Remove the person's reaction if present, else add ``row``; True if added.

        None when a concurrent toggle added the same reaction first (the unique key
        refused ours): the reaction exists, and that other toggle announces it.
        """
        same = (
            t.c.messageId == row["messageId"],
            t.c.personId == row["personId"],
            t.c.emoji == row["emoji"],
        )
        try:
            async with self._engine.begin() as db:
                if (await db.execute(delete(t).where(*same))).rowcount:
                    return False
                await db.execute(t.insert().values(**row))
        except IntegrityError:
            return None
        return True
