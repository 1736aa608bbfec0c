"""Cached conversations that apply ``message`` and ``deleteMessage`` frames.

The guarantee this store exists for: a subscriber sees every message of an open
conversation exactly once, even across a dropped socket or a server restart. Two
mechanisms give it. Messages are merged by id, so a message that arrives both live
and from a fetch is stored once. And around every (re)post of the room's
connection, the store notes the last message it had *before* the post and, once the
post is done (frames flow again), fetches ``catchup?after=<that id>``, page after
page until the node has no more: whatever was said while the socket had no row in
the room, however much that was.

History is paged (PROTOCOL 5.6): opening a conversation loads its newest page, and the
store keeps at most ``retain`` messages, the newest. Listeners get a snapshot after
each page, so a long catch-up shows every message even if the oldest of it is later
dropped from the store.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace

from steeple.client.backoff import Backoff
from steeple.client.errors import ClientError
from steeple.client.models import ConversationSnapshot, Frame, Message
from steeple.client.rest import RestClient
from steeple.client.socket import Socket
from steeple.client.subscriptions import Subscriptions
from steeple.client.tasks import TaskSet
from steeple.protocol.frames import Action
from steeple.types import Room

log = logging.getLogger(__name__)

SnapshotListener = Callable[[ConversationSnapshot], None]
RESUME_ATTEMPTS = 5
RETAINED_MESSAGES = 1000
"""Default size of a conversation in the store: five pages of the default HISTORY_LIMIT."""


def merge(old: Message, new: Message) -> Message:
    """``new`` wins, except where it leaves a field empty that ``old`` knew."""
    kept = {
        f.name: getattr(old, f.name)
        for f in fields(Message)
        if getattr(new, f.name) in (None, "") and getattr(old, f.name) not in (None, "")
    }
    return replace(new, **kept) if kept else new


@dataclass
class _Conversation:
    church_id: str
    conversation_id: str
    retain: int = RETAINED_MESSAGES
    opens: int = 0
    loaded: bool = False
    resume_pending: bool = False
    resume_after: str | None = None
    """Where the pending catch-up starts; ``None``: from the conversation's first message."""
    resume_after_load: bool = False
    """The socket dropped before the first load brought anything: start after its page."""
    resume_round: int = 0
    """Counts (re)posts, so a catch-up begun before the latest one does not close it."""
    messages: list[Message] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    trimmed: bool = False
    deleted: set[str] = field(default_factory=set)
    loader: asyncio.Task[None] | None = None
    snapshot: ConversationSnapshot | None = None
    listeners: list[SnapshotListener] = field(default_factory=list)

    def position(self, message_id: str) -> int | None:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].id == message_id:
                return index
        return None

    def put(self, message: Message) -> bool:
        """Insert or merge; True if anything changed."""
        if message.id in self.deleted:
            return False  # a fetch that started before the delete must not resurrect it
        if message.id in self.ids:
            index = self.position(message.id)
            assert index is not None
            merged = merge(self.messages[index], message)
            if merged == self.messages[index]:
                return False
            self.messages[index] = merged
            return True
        if self._below_window(message):
            return False
        self.ids.add(message.id)
        if not self.messages or self.messages[-1].time_sent <= message.time_sent:
            self.messages.append(message)
        else:
            at = bisect.bisect_right([m.time_sent for m in self.messages], message.time_sent)
            self.messages.insert(at, message)
        if len(self.messages) > self.retain:
            self.ids.discard(self.messages.pop(0).id)
            self.trimmed = True
        return True

    def _below_window(self, message: Message) -> bool:
        """Older than every message kept, once the store is full or has dropped some:
        it would be dropped at once, or be one that was (an edit of it, say)."""
        if not self.messages or not (self.trimmed or len(self.messages) >= self.retain):
            return False
        return message.time_sent < self.messages[0].time_sent

    def remove(self, message_id: str) -> bool:
        self.deleted.add(message_id)
        if message_id not in self.ids:
            return False
        self.ids.discard(message_id)
        index = self.position(message_id)
        assert index is not None
        del self.messages[index]
        return True

    def last_id(self) -> str | None:
        return self.messages[-1].id if self.messages else None


class ConversationStore:
    """Conversations opened by this client, kept current from frames and fetches."""

    def __init__(
        self,
        socket: Socket,
        subscriptions: Subscriptions,
        rest: RestClient,
        retain: int = RETAINED_MESSAGES,
    ) -> None:
        if retain < 1:
            raise ValueError("retain must be at least 1")
        self._socket = socket
        self._subscriptions = subscriptions
        self._rest = rest
        self._retain = retain
        self._conversations: dict[str, _Conversation] = {}
        self._tasks = TaskSet("conversations")
        self._retry = Backoff(base=0.5, cap=8.0)
        self._handler_id = f"conversations-{id(self)}"
        socket.add_handler(Action.MESSAGE, self._handler_id, self._on_message)
        socket.add_handler(Action.DELETE_MESSAGE, self._handler_id, self._on_delete)
        self._unsubscribe = [
            subscriptions.on_posting(self._before_post),
            subscriptions.on_joined(self._after_post),
        ]

    # --- public API -----------------------------------------------------------------------

    async def open(self, church_id: str, conversation_id: str) -> ConversationSnapshot:
        """Join the room and load its history (once); return the current snapshot."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            conversation = _Conversation(church_id, conversation_id, self._retain)
            self._conversations[conversation_id] = conversation
        conversation.opens += 1
        try:
            await self._subscriptions.join(church_id, conversation_id)
        except BaseException:
            self._drop_reference(conversation)
            raise
        try:
            if not conversation.loaded:
                if conversation.loader is None:
                    conversation.loader = self._tasks.spawn(self._load(conversation))
                await asyncio.shield(conversation.loader)
        except BaseException:
            await self.release(church_id, conversation_id)
            raise
        return self._snapshot(conversation)

    async def release(self, church_id: str, conversation_id: str) -> None:
        """Release one :meth:`open`; the last release leaves the room and drops the cache."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None or conversation.opens == 0:
            return
        self._subscriptions.leave(church_id, conversation_id)
        self._drop_reference(conversation)

    def _drop_reference(self, conversation: _Conversation) -> None:
        conversation.opens -= 1
        if conversation.opens == 0:
            del self._conversations[conversation.conversation_id]

    def snapshot(self, conversation_id: str) -> ConversationSnapshot | None:
        conversation = self._conversations.get(conversation_id)
        return self._snapshot(conversation) if conversation else None

    def subscribe(self, conversation_id: str, listener: SnapshotListener) -> Callable[[], None]:
        """``listener(snapshot)`` after each change of an open conversation."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise ClientError(f"conversation {conversation_id} is not open")
        conversation.listeners.append(listener)
        return lambda: conversation.listeners.remove(listener)

    async def aclose(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._socket.remove_handler(Action.MESSAGE, self._handler_id)
        self._socket.remove_handler(Action.DELETE_MESSAGE, self._handler_id)
        await self._tasks.cancel_all()

    # --- loading and catching up ----------------------------------------------------------

    async def _load(self, conversation: _Conversation) -> None:
        """The newest page; whatever is said from here on arrives as frames."""
        try:
            if self._rest.signed_in:
                history = await self._rest.conversation_messages(conversation.conversation_id)
            else:
                history = await self._rest.catchup(
                    conversation.church_id, conversation.conversation_id
                )
        finally:
            conversation.loader = None
        conversation.loaded = True
        if conversation.resume_after_load:
            conversation.resume_after_load = False
            conversation.resume_after = history[-1].id if history else None
        self._apply(conversation, history)

    def _before_post(self, room: Room, socket_id: str) -> None:
        conversation = self._conversations.get(room[1])
        if conversation is None or not (conversation.loaded or conversation.loader):
            return  # the history load that follows the join covers everything
        conversation.resume_round += 1
        if conversation.resume_pending:
            return  # keep the older cursor of an unfinished resume
        conversation.resume_pending = True
        conversation.resume_after = conversation.last_id()
        # Dropped while the first page is on its way, with no frame yet: what was missed
        # follows that page, not the conversation's first message.
        conversation.resume_after_load = not conversation.loaded and not conversation.messages

    def _after_post(self, room: Room, socket_id: str) -> None:
        conversation = self._conversations.get(room[1])
        if conversation is not None and conversation.resume_pending:
            self._tasks.spawn(self._resume(conversation))

    async def _resume(self, conversation: _Conversation) -> None:
        """Fetch what was said since ``resume_after``; a failure is retried a few times,
        then left pending for the next (re)post of the room."""
        started = conversation.resume_round
        for attempt in range(RESUME_ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._retry.delay(attempt))
            if self._conversations.get(conversation.conversation_id) is not conversation:
                return  # released meanwhile
            try:
                await self._catch_up(conversation)
            except ClientError as exc:
                log.warning("catching up %s failed: %s", conversation.conversation_id, exc)
                continue
            if conversation.resume_round == started:
                conversation.resume_pending = False  # else the later catch-up closes it
            return

    async def _catch_up(self, conversation: _Conversation) -> None:
        """Apply every page after ``resume_after``, moving the cursor page by page so a
        walk cut short resumes where it stopped."""
        if conversation.loader is not None:
            await asyncio.shield(conversation.loader)
        pages = self._rest.catchup_pages(
            conversation.church_id, conversation.conversation_id, conversation.resume_after
        )
        async for page in pages:
            self._apply(conversation, page)
            conversation.resume_after = page[-1].id

    # --- frames ---------------------------------------------------------------------------

    def _on_message(self, frame: Frame) -> None:
        if not isinstance(frame.data, dict) or "id" not in frame.data:
            return
        message = Message.from_json(frame.data)
        conversation = self._conversations.get(message.conversation_id or frame.conversation_id)
        if conversation is not None:
            self._apply(conversation, [message])

    def _on_delete(self, frame: Frame) -> None:
        message_id = frame.data.get("id") if isinstance(frame.data, dict) else None
        if not message_id:
            return
        for conversation in self._conversations.values():
            if conversation.remove(str(message_id)):
                self._changed(conversation)

    def _apply(self, conversation: _Conversation, messages: Iterable[Message]) -> None:
        changed = False
        for message in messages:
            changed = conversation.put(message) or changed
        if changed:
            self._changed(conversation)

    def _changed(self, conversation: _Conversation) -> None:
        conversation.snapshot = None
        snapshot = self._snapshot(conversation)
        for listener in list(conversation.listeners):
            try:
                listener(snapshot)
            except Exception:
                log.exception("conversation listener failed")

    @staticmethod
    def _snapshot(conversation: _Conversation) -> ConversationSnapshot:
        if conversation.snapshot is None:
            conversation.snapshot = ConversationSnapshot(
                conversation.church_id, conversation.conversation_id, tuple(conversation.messages)
            )
        return conversation.snapshot
