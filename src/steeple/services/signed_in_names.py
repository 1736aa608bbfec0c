"""Names signed-in people hold in a room, so an anonymous viewer cannot take one.

A live-stream room is open to anyone with the link; without this, a stranger could
join or post as "Pastor Ann" while Pastor Ann hosts. A guest whose name matches one
held in the room (case, width and invisible characters aside: see
:func:`steeple.names.key`) keeps it with a visible mark, "Pastor Ann (guest)", rather
than a refusal: old clients join and post without reading errors, and a visitor who
happens to share a name with a member still chats.

A name is held while a connection row of the room with a personId carries it (on any
node), and for an hour after a signed-in person joined, renamed or posted with it
through this node. The rows of a room are read at most once per ``seconds`` per
room, so the post path costs a dictionary lookup, not a query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from steeple import names
from steeple.cache import TtlCache
from steeple.types import Room

LoadNames = Callable[[Room], Awaitable[list[str]]]
"""The display names of a room's connection rows that have a personId."""

ROW_SECONDS = 10.0
"""How stale a node's view of another node's signed-in joins may be."""
RECENT_SECONDS = 3600.0
"""How long a name used through this node stays held: about one service."""


class SignedInNames:
    def __init__(
        self, load: LoadNames, seconds: float = ROW_SECONDS, recent: float = RECENT_SECONDS
    ) -> None:
        self._load = load
        self._rows: TtlCache[Room, frozenset[str]] = TtlCache(seconds)
        self._recent: TtlCache[tuple[Room, str], bool] = TtlCache(recent)

    async def name_for(self, room: Room, name: str, *, signed_in: bool, max_length: int) -> str:
        """The name to store: a signed-in person's as given (and now held), a guest's
        marked if a signed-in person holds it in ``room``."""
        if not name:
            return name
        if signed_in:
            self._recent.put((room, names.key(name)), True)
            return name
        if await self.held(room, name):
            return names.as_guest(name, max_length)
        return name

    async def held(self, room: Room, name: str) -> bool:
        wanted = names.key(name)
        if self._recent.get((room, wanted)):
            return True
        held = self._rows.get(room)
        if held is None:
            keys = {names.key(n) for n in await self._load(room) if n}
            held = self._rows.put(room, frozenset(keys - {""}))
        return wanted in held
