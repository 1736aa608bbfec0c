"""``steeple chat``: a terminal chat built only on the client primitives.

It joins one room, prints its history and each new message once (by id, from the
conversation store's snapshots), shows the viewer count and the room's slow mode,
and sends every line the user types (a line refused for slow mode says how long to
wait). Lines typed while the server is unreachable wait in an outbox and go out,
in order, once it is back; a line is re-sent only if its request never left
(:class:`ConnectFailed`), so nothing is lost and nothing is said twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from steeple.client.backoff import Backoff
from steeple.client.client import Client
from steeple.client.errors import (
    ApiError,
    ClientError,
    ConnectFailed,
    TooManyRequestsError,
    TransportError,
)
from steeple.client.models import (
    AttendanceSnapshot,
    ConversationSnapshot,
    Frame,
    Message,
    RoomSettings,
)
from steeple.client.socket import DISCONNECT, RECONNECT

log = logging.getLogger(__name__)

QUIT = "/quit"


@dataclass(frozen=True)
class ChatOptions:
    url: str
    church: str
    room: str
    """``contentType:contentId`` (the current conversation of that content) or an id."""
    name: str = ""
    token: str | None = None
    socket_url: str | None = None


def printable(text: str) -> str:
    """Control characters (terminal escapes included) shown as ``?``: a message must not
    be able to drive the reader's terminal."""
    return "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in text)


def clock_time(iso: str) -> str:
    """Local wall-clock time of a server timestamp; the date too when not today."""
    try:
        when = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return "--:--:--"
    if when.date() == datetime.now().astimezone().date():
        return when.strftime("%H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M:%S")


def message_line(message: Message, edited: bool = False) -> str:
    name = printable(message.display_name) or "Anonymous"
    note = " (edited)" if edited else ""
    return f"{clock_time(message.time_sent)} {name}{note}: {printable(message.content)}"


class Transcript:
    """Prints each message once, edits as such, and viewer-count changes."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._printed: dict[str, Message] = {}
        self._viewers: int | None = None

    def say(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def status(self, text: str) -> None:
        self.say(f"* {text}")

    def messages(self, snapshot: ConversationSnapshot) -> None:
        printed: dict[str, Message] = {}
        for message in snapshot.messages:
            before = self._printed.get(message.id)
            if before is None or before.content != message.content:
                self.say(message_line(message, edited=before is not None))
            printed[message.id] = message
        # Only what the store still holds: it keeps the newest messages and never brings
        # back one it dropped, so a long chat does not grow this without end.
        self._printed = printed

    def attendance(self, snapshot: AttendanceSnapshot) -> None:
        if snapshot.total_viewers != self._viewers:
            self._viewers = snapshot.total_viewers
            self.status(f"{snapshot.total_viewers} watching")

    def slow_mode(self, settings: RoomSettings) -> None:
        seconds = settings.slow_mode_seconds
        self.status(f"slow mode: one message every {seconds} s" if seconds else "slow mode off")

    def viewers(self, snapshot: AttendanceSnapshot | None) -> None:
        names = [printable(v.display_name) for v in snapshot.viewers] if snapshot else []
        self.status("here: " + (", ".join(names) or "nobody"))


class Outbox:
    """Sends typed lines in order, holding them while the server is unreachable.

    A request that failed before connecting is simply sent again. One that failed
    after (the server went away mid-request) may or may not have been saved; before
    sending it again the outbox asks the server for the messages since the line was
    typed and looks for it, so a line is neither lost nor said twice.
    """

    def __init__(
        self,
        client: Client,
        church_id: str,
        conversation_id: str,
        name: str,
        transcript: Transcript,
        backoff: Backoff,
    ) -> None:
        self._client = client
        self._room = (church_id, conversation_id)
        self._name = name
        self._transcript = transcript
        self._backoff = backoff
        self.lines: asyncio.Queue[str] = asyncio.Queue()

    async def run(self) -> None:
        while True:
            line = await self.lines.get()
            try:
                await self._deliver(line)
            finally:
                self.lines.task_done()

    async def _deliver(self, line: str) -> None:
        snapshot = self._client.conversations.snapshot(self._room[1])
        cursor = snapshot.last_id if snapshot else None
        uncertain = False
        for attempt in itertools.count():
            if attempt:
                await self._pause(attempt - 1)
            if uncertain:
                try:
                    if await self._landed(line, cursor):
                        return
                except ClientError:
                    continue
                uncertain = False
            try:
                await self._client.rest.send_message(*self._room, line, self._name)
                return
            except TooManyRequestsError as exc:
                self._transcript.status(f"not sent: {too_soon(exc)}")
                return
            except ApiError as exc:
                self._transcript.status(f"not sent: {exc.problem or exc}")
                return
            except TransportError as exc:
                uncertain = not isinstance(exc, ConnectFailed)
                if attempt == 0:
                    self._transcript.status("offline: your message will be sent on reconnect")

    async def _landed(self, line: str, cursor: str | None) -> bool:
        """Did an earlier, interrupted attempt save this line after all?"""
        name = self._name or None
        async for page in self._client.rest.catchup_pages(*self._room, after=cursor):
            if any(m.content == line and (name is None or m.display_name == name) for m in page):
                return True
        return False

    async def _pause(self, attempt: int) -> None:
        await asyncio.sleep(self._backoff.delay(attempt))
        with contextlib.suppress(ClientError):
            await self._client.socket.get_id(timeout=30.0)


def too_soon(exc: TooManyRequestsError) -> str:
    """What to tell the user about a 429: which limit, and how long to wait."""
    what = "slow mode is on" if exc.limit == "slowMode" else "too many messages"
    if exc.retry_after is None:
        return f"{what}; wait a little before sending again"
    return f"{what}; wait {math.ceil(exc.retry_after)} s before sending again"


def read_lines(
    stream: Iterable[str], loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
) -> threading.Thread:
    """Read ``stream`` on a daemon thread (stdin may be a tty, pipe or file); ``None`` = EOF."""

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(lines.put_nowait, item)

    def run() -> None:
        for line in stream:
            put(line.rstrip("\r\n"))
        put(None)

    thread = threading.Thread(target=run, name="steeple-chat-input", daemon=True)
    thread.start()
    return thread


async def resolve_room(client: Client, church_id: str, room: str) -> dict[str, object]:
    """``contentType:contentId`` -> the current conversation; a bare id -> that conversation."""
    content_type, sep, content_id = room.partition(":")
    if sep:
        return await client.rest.current_conversation(church_id, content_type, content_id)
    return await client.rest.conversation(church_id, room)


async def run_chat(options: ChatOptions, stdin: Iterable[str], out: TextIO) -> int:
    """Chat until ``/quit`` or the end of ``stdin``; raises :class:`ClientError` if the
    server cannot be reached at start."""
    transcript = Transcript(out)
    client = Client(options.url, options.socket_url, token=options.token, display_name=options.name)
    try:
        conversation = await resolve_room(client, options.church, options.room)
        conversation_id = str(conversation["id"])
        await client.connect()
        title = printable(str(conversation.get("title") or conversation_id))
        transcript.status(f"joined {title} ({conversation_id}); type {QUIT} to leave")
        if client.room_settings.note(conversation).slow_mode_seconds:
            transcript.slow_mode(client.room_settings.snapshot(conversation_id))
        client.room_settings.subscribe(conversation_id, transcript.slow_mode)
        return await _converse(client, options, conversation_id, stdin, transcript)
    finally:
        await client.aclose()


async def _converse(
    client: Client,
    options: ChatOptions,
    conversation_id: str,
    stdin: Iterable[str],
    transcript: Transcript,
) -> int:
    client.presence.subscribe(conversation_id, transcript.attendance)
    client.socket.add_handler(
        DISCONNECT, "chat", _status(transcript, "connection lost; reconnecting")
    )
    client.socket.add_handler(RECONNECT, "chat", _status(transcript, "reconnected"))
    transcript.messages(await client.conversations.open(options.church, conversation_id))
    client.conversations.subscribe(conversation_id, transcript.messages)
    outbox = Outbox(
        client,
        options.church,
        conversation_id,
        options.name,
        transcript,
        Backoff(base=0.25, cap=5.0),
    )
    sender = asyncio.get_running_loop().create_task(outbox.run())
    try:
        await _read_input(client, conversation_id, stdin, outbox, transcript)
        await outbox.lines.join()
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return 0


async def _read_input(
    client: Client,
    conversation_id: str,
    stdin: Iterable[str],
    outbox: Outbox,
    transcript: Transcript,
) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    read_lines(stdin, asyncio.get_running_loop(), lines)
    while (line := await lines.get()) is not None:
        text = line.strip()
        if text == QUIT:
            return
        if text == "/who":
            transcript.viewers(client.presence.snapshot(conversation_id))
        elif text:
            outbox.lines.put_nowait(text)


def _status(transcript: Transcript, text: str) -> Callable[[Frame], None]:
    return lambda frame: transcript.status(text)
