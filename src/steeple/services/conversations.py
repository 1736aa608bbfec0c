"""Conversations: the current room of a piece of content, creation, listing, deletion.

A new group feed (and a new post to one) is judged with its group's feed switches
(PROTOCOL.md 5.3), which :class:`~steeple.services.group_feeds.GroupFeeds` looks up.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypedDict

from steeple import access, validation
from steeple.access import Thread
from steeple.auth.principal import Principal
from steeple.cache import TtlCache
from steeple.errors import BadRequest, NotFound, Unauthorized
from steeple.protocol.content_types import ANONYMOUS_PUBLIC_TYPES, ContentType
from steeple.protocol.frames import Action
from steeple.services.context import Context
from steeple.services.group_feeds import GroupFeeds
from steeple.services.rate_limits import RateLimits
from steeple.storage.rows import ConversationRow, MessageRow, new_conversation
from steeple.types import ID_LENGTH, Room

CURRENT_WINDOW = timedelta(hours=24)
CACHE_SECONDS = 10.0


class ConversationService:
    def __init__(self, ctx: Context, feeds: GroupFeeds, limits: RateLimits) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._feeds = feeds
        self._limits = limits
        # Weak values: a lock lives only while a request holds or awaits it.
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._current: TtlCache[tuple[str, str, str], ConversationRow] = TtlCache(CACHE_SECONDS)
        self._cache: TtlCache[str, ConversationRow] = TtlCache(CACHE_SECONDS)

    # --- lookups and access ---------------------------------------------------------

    async def find(self, conversation_id: str, *, fresh: bool = False) -> ConversationRow | None:
        """A conversation row, cached briefly: joins and posts look it up constantly.

        The cached copy's stats (postCount, first/lastPostId) may lag; ``fresh`` reads
        the database for callers that show them.
        """
        hit = None if fresh else self._cache.get(conversation_id)
        if hit is not None:
            return hit
        row = await self._store.conversations.get(conversation_id)
        if row is not None:
            self._cache.put(conversation_id, row)
        return row

    async def thread(self, conversation: ConversationRow) -> tuple[str, str] | None:
        if conversation.get("contentType") != ContentType.PRIVATE_MESSAGE:
            return None
        row = await self._store.private_messages.for_conversation(conversation["id"])
        if row is None:
            return ("", "")
        return (row["fromPersonId"], row["toPersonId"])

    async def with_thread(self, conversation_id: str) -> tuple[ConversationRow | None, Thread]:
        """A conversation (None if gone) and the thread that owns it, for access checks."""
        conversation = await self.find(conversation_id)
        if conversation is None:
            return None, None
        return conversation, await self.thread(conversation)

    async def readable(
        self, principal: Principal, church_id: str, conversation_id: str, *, fresh: bool = False
    ) -> ConversationRow:
        """The conversation if the caller may read it; NotFound or Unauthorized otherwise."""
        conversation = await self.find(conversation_id, fresh=fresh)
        if conversation is None or conversation["churchId"] != church_id:
            raise NotFound("conversation not found")
        if not access.can_read(principal, conversation, await self.thread(conversation)):
            raise Unauthorized()
        return conversation

    async def may_post(self, principal: Principal, conversation: ConversationRow) -> bool:
        """A participant, whatever the feed switches say (reactions)."""
        return access.can_post(principal, conversation, await self.thread(conversation))

    async def may_add_message(self, principal: Principal, conversation: ConversationRow) -> bool:
        """A participant whose new post the group's feed switches let through. The
        switches are looked up only for callers who pass every other rule."""
        thread = await self.thread(conversation)
        if not access.can_post(principal, conversation, thread):
            return False
        switches = await self._feeds.switches(conversation)
        return access.can_post(principal, conversation, thread, switches)

    async def _require_creator(
        self, principal: Principal, row: ConversationRow, thread: Thread
    ) -> None:
        """Unauthorized unless the caller may create ``row``, feed switches included."""
        if not access.can_create_conversation(principal, row, thread):
            raise Unauthorized()
        switches = await self._feeds.switches(row)
        if not access.can_create_conversation(principal, row, thread, switches):
            raise Unauthorized()

    async def require_room_reader(self, principal: Principal, room: Room) -> None:
        church_id, conversation_id = room
        if access.is_alerts(conversation_id):
            if not access.can_use_alerts(principal) or principal.church_id != church_id:
                raise Unauthorized()
            return
        content = access.parse_content_room(conversation_id)
        if content is not None:
            if not access.can_read_content(principal, church_id, *content):
                raise Unauthorized()
            return
        await self.readable(principal, church_id, conversation_id)

    # --- the current room -------------------------------------------------------------

    async def current(
        self,
        principal: Principal,
        church_id: str,
        content_type: str,
        content_id: str,
        address: str = "",
    ) -> ConversationRow:
        """The current room; one created here is charged to the caller's and the
        church's creation limits first (``address`` names an anonymous caller)."""
        caller = (principal, address)
        if content_type in ANONYMOUS_PUBLIC_TYPES:
            if len(content_id) > ID_LENGTH:
                raise BadRequest(f"a {content_type} contentId is at most {ID_LENGTH} characters")
            validation.path_id(content_id, "contentId")
            key = (church_id, content_type, content_id)
            return await self._get_or_create(key, None, caller)
        if not principal.in_church(church_id):
            raise Unauthorized()
        if len(content_id) > ID_LENGTH:
            content_id = self._ctx.cipher.decrypt(content_id)
        validation.path_id(content_id, "contentId")
        if content_type == ContentType.PRIVATE_MESSAGE:
            return await self._current_thread(principal, church_id, content_id)
        probe = {"churchId": church_id, "contentType": content_type, "contentId": content_id}
        if not access.can_read(principal, probe):
            raise Unauthorized()
        row = await self._get_or_create((church_id, content_type, content_id), principal, caller)
        if not access.can_read(principal, row, await self.thread(row)):
            raise Unauthorized()
        return row

    async def ensure(
        self, principal: Principal, read_body: Callable[[], Any], address: str = ""
    ) -> ConversationRow:
        """``POST /conversations/ensure``: the caller church's current room of a live
        stream, created if need be; no other content is ensured this way. The body is
        read only once the caller is known to be signed in, so a guest gets 401 first."""
        if not principal.authenticated:
            raise Unauthorized()
        entry = validation.an_object(read_body())
        content_type = validation.text(entry, "contentType")
        if content_type != ContentType.STREAMING_LIVE:
            raise BadRequest(f"'contentType' must be {ContentType.STREAMING_LIVE}")
        content_id = validation.identifier(entry, "contentId", max_length=ID_LENGTH)
        return await self.current(principal, principal.church_id, content_type, content_id, address)

    async def _current_thread(
        self, principal: Principal, church_id: str, content_id: str
    ) -> ConversationRow:
        """A private thread's conversation, to one of its two people only. Never created
        here: a thread is opened with ``POST /conversations`` + ``POST /privateMessages``,
        and a lazily created one would belong to whoever asked first."""
        since = self._ctx.clock.now() - CURRENT_WINDOW
        found = await self._store.conversations.newest_for_content(
            church_id, ContentType.PRIVATE_MESSAGE, content_id, since
        )
        if found is None or not access.can_read(principal, found, await self.thread(found)):
            raise Unauthorized()
        return found

    async def _get_or_create(
        self,
        key: tuple[str, str, str],
        creator: Principal | None,
        caller: tuple[Principal, str],
    ) -> ConversationRow:
        """The current room, created when there is none: an anonymous-public one for
        anybody (``creator`` None), any other only for a caller who may create it; a
        creation is charged to ``caller`` (principal, address) first."""
        church_id, content_type, content_id = key
        since = self._ctx.clock.now() - CURRENT_WINDOW
        cached = self._current.get(key)
        # A live stream's viewers all ask for the same room within minutes: answer
        # from memory while it is fresh and still inside its 24 h window.
        if cached is not None and cached["dateCreated"] >= since:
            return cached
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            found = await self._store.conversations.newest_for_content(*key, since)
            if found is not None:
                return self._current.put(key, found)
            row = new_conversation(
                church_id,
                content_type,
                content_id,
                title=f"{content_type} #{content_id}",
                visibility="public",
                allow_anonymous=creator is None,
                created=self._ctx.clock.now(),
            )
            if creator is not None:
                await self._require_creator(creator, row, None)
            principal, address = caller
            await self._limits.create(principal, church_id, content_type, address)
            await self._store.conversations.insert(row)
            self._current.put(key, row)
        await self._announce(row, "created")
        return row

    async def _announce(self, conversation: ConversationRow, kind: str) -> None:
        content_type, content_id = conversation["contentType"], conversation["contentId"]
        if not content_type or not content_id:
            return
        room = (conversation["churchId"], access.content_room(content_type, content_id))
        data = {
            "contentType": content_type,
            "contentId": content_id,
            "conversationId": conversation["id"],
            "kind": kind,
        }
        await self._ctx.publish(room, Action.CONVERSATION_ACTIVITY, data)

    async def announce_message(self, conversation: ConversationRow) -> None:
        await self._announce(conversation, "message")

    # --- listings ------------------------------------------------------------------------

    async def for_content(
        self, principal: Principal, church_id: str, content_type: str, content_id: str
    ) -> list[ConversationRow]:
        """Conversations of a piece of content; 401 for a caller who may not read that
        content (another church's included), not an empty list."""
        # A private thread is judged per row, on its thread.
        per_row = content_type == ContentType.PRIVATE_MESSAGE and principal.in_church(church_id)
        if not per_row and not access.can_read_content(
            principal, church_id, content_type, content_id
        ):
            raise Unauthorized()
        rows = await self._store.conversations.for_content(church_id, content_type, content_id)
        return [r for r in rows if access.can_read(principal, r, await self.thread(r))]

    async def with_edges(self, conversation: ConversationRow) -> ConversationView:
        """The conversation with ``messages`` = [first, last] (one if they are the same)."""
        ids = [i for i in (conversation["firstPostId"], conversation["lastPostId"]) if i]
        found = {m["id"]: m for m in await self._store.messages.many(list(dict.fromkeys(ids)))}
        messages = [found[i] for i in dict.fromkeys(ids) if i in found]
        return {**conversation, "messages": messages}

    # --- changes ---------------------------------------------------------------------------

    async def save_all(
        self, principal: Principal, body: Any, address: str = ""
    ) -> list[ConversationRow]:
        """``POST /conversations``: every entry is checked, authorised and (if new)
        charged to the creation limits before any is written, so a batch with one bad
        or denied entry changes nothing."""
        entries = [parse_new_conversation(e) for e in validation.array_of_objects(body)]
        if not principal.authenticated:
            raise Unauthorized()
        planned = [await self._plan(principal, entry) for entry in entries]
        new = [row for row, is_new in planned if is_new]
        if new:
            kind = new[0]["contentType"]
            await self._limits.create(principal, principal.church_id, kind, address, len(new))
        return [await self._apply(row, is_new) for row, is_new in planned]

    async def planned(
        self, principal: Principal, entry: ConversationEntry, address: str
    ) -> ConversationRow:
        """A new conversation of the caller's church, authorised and charged to the
        creation limits but not written yet (``POST /conversations/start``)."""
        row, _ = await self._plan(principal, {**entry, "id": ""})
        await self._limits.create(principal, principal.church_id, row["contentType"], address)
        return row

    async def insert(self, row: ConversationRow) -> ConversationRow:
        """Write a :meth:`planned` conversation."""
        return await self._apply(row, True)

    async def _plan(
        self, principal: Principal, entry: ConversationEntry
    ) -> tuple[ConversationRow, bool]:
        """The row to write and whether it is new; raises if the caller may not."""
        if entry["id"]:
            return await self._planned_update(principal, entry), False
        row = new_conversation(
            principal.church_id,
            entry["contentType"],
            entry["contentId"],
            title=entry["title"],
            visibility=entry["visibility"],
            allow_anonymous=entry["allowAnonymousPosts"],
            created=self._ctx.clock.now(),
            group_id=entry["groupId"] or None,
        )
        await self._require_creator(principal, row, _creator_thread(principal, row))
        return row, True

    async def _planned_update(
        self, principal: Principal, entry: ConversationEntry
    ) -> ConversationRow:
        """An update is judged on the stored conversation, never on what the caller sends:
        its church, type and content stay; a private thread keeps its visibility."""
        stored = await self._store.conversations.get(entry["id"])
        if stored is None or stored["churchId"] != principal.church_id:
            raise Unauthorized()
        if not access.can_update_conversation(principal, stored, await self.thread(stored)):
            raise Unauthorized()
        updated = stored.copy()
        present = entry["present"]
        if "title" in present:
            updated["title"] = entry["title"]
        if stored["contentType"] == ContentType.PRIVATE_MESSAGE:
            return updated
        # What else an update may change; id, church, type, content, date and stats stay.
        if "groupId" in present:
            updated["groupId"] = entry["groupId"] or None
        if "visibility" in present:
            updated["visibility"] = entry["visibility"]
        if "allowAnonymousPosts" in present:
            updated["allowAnonymousPosts"] = entry["allowAnonymousPosts"]
        return updated

    async def _apply(self, row: ConversationRow, is_new: bool) -> ConversationRow:
        if not is_new:
            await self._store.conversations.save(row)
            self._cache.discard(row["id"])
            self._current.discard_where(lambda cached: cached["id"] == row["id"])
            return row
        await self._store.conversations.insert(row)
        await self._announce(row, "created")
        return row

    async def delete(self, principal: Principal, church_id: str, conversation_id: str) -> None:
        if not access.can_moderate(principal, church_id):
            raise Unauthorized()
        if not await self._store.conversations.delete(church_id, conversation_id):
            raise NotFound("conversation not found")
        self._cache.discard(conversation_id)
        self._current.discard_where(lambda row: row["id"] == conversation_id)


def _creator_thread(principal: Principal, row: ConversationRow) -> tuple[str] | None:
    """A new private-message conversation is its creator's until a thread claims it
    (``POST /privateMessages``), which is how ChurchApps clients open one."""
    if row["contentType"] == ContentType.PRIVATE_MESSAGE and principal.person_id:
        return (principal.person_id,)
    return None


class ConversationEntry(TypedDict):
    """One checked body entry of ``POST /conversations``; ``present`` names the keys sent."""

    id: str
    contentType: str
    contentId: str
    title: str
    groupId: str
    visibility: str
    allowAnonymousPosts: bool
    present: frozenset[str]


class ConversationView(ConversationRow):
    """A conversation with its first and last message (one if they are the same)."""

    messages: list[MessageRow]


def parse_new_conversation(entry: dict[str, Any]) -> ConversationEntry:
    """Validate one body entry of ``POST /conversations``."""
    return {
        "id": validation.identifier(entry, "id", required=False, max_length=ID_LENGTH),
        "contentType": validation.text(entry, "contentType", max_length=255),
        "contentId": validation.text(entry, "contentId", max_length=255),
        "title": validation.text(entry, "title", required=False, max_length=255),
        "groupId": validation.identifier(entry, "groupId", required=False, max_length=ID_LENGTH),
        "visibility": validation.text(
            entry, "visibility", required=False, max_length=45, default="public"
        ),
        "allowAnonymousPosts": validation.flag(entry, "allowAnonymousPosts", False),
        "present": frozenset(entry),
    }
