"""History written the way another node would write it: straight to the shared database.

Paging tests need rooms with more messages than a page, and clients that missed
them. Writing the rows directly gives both without going through the posting path's
rate limits, and without any frame reaching this node's sockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from steeple.storage.rows import MessageRow
from steeple.storage.store import Store
from steeple.types import new_id


async def write_history(
    store: Store, room: Mapping[str, Any], texts: list[str], ties: int = 1
) -> list[MessageRow]:
    """Store ``texts`` in ``room``, in that order, starting now; ``ties`` messages share
    each instant (their ids are made to sort in the order given)."""
    start = datetime.now(UTC).replace(tzinfo=None)
    prefixes = [new_id()[:7] for _ in range(0, len(texts), ties)]
    rows: list[MessageRow] = [
        {
            "id": f"{prefixes[i // ties]}{i % ties:04d}",
            "churchId": room["churchId"],
            "conversationId": room["id"],
            "displayName": "Dana",
            "timeSent": start + timedelta(microseconds=i // ties),
            "messageType": "message",
            "content": text,
            "personId": None,
            "timeUpdated": None,
        }
        for i, text in enumerate(texts)
    ]
    await store.messages.add(rows)
    return rows
