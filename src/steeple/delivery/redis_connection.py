"""One TCP connection to Redis, speaking RESP2 through :mod:`steeple.delivery.resp`.

Commands are pipelined: everything written during one event-loop iteration leaves in
a single ``write``, and replies resolve their futures in the order the commands were
sent. A connection made with ``on_push`` is a subscriber: replies that no command is
waiting for (pub/sub messages and subscription acknowledgements) go there.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from steeple.delivery.resp import Part, ProtocolError, ReplyError, ReplyParser, encode_command
from steeple.errors import ConfigError

log = logging.getLogger(__name__)

Push = Callable[[Any], None]


@dataclass(frozen=True)
class RedisAddress:
    """Where Redis is and how to log in, from a ``redis://`` or ``rediss://`` URL."""

    host: str
    port: int = 6379
    db: int = 0
    username: str = ""
    password: str = ""
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ConfigError(f"REDIS_URL must look like redis://host:6379/0, not {url!r}")
        path = parts.path.strip("/")
        try:
            port, db = parts.port or 6379, int(path or 0)
        except ValueError:
            raise ConfigError(f"REDIS_URL has a bad port or database number: {url!r}") from None
        return cls(parts.hostname, port, db, unquote(parts.username or ""),
                   unquote(parts.password or ""), parts.scheme == "rediss")


class RedisConnection(asyncio.Protocol):
    """A pipelined connection; see the module docstring."""

    def __init__(self, on_push: Push | None) -> None:
        self._on_push = on_push
        self._parser = ReplyParser()
        self._waiting: deque[asyncio.Future[Any] | None] = deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()

    @classmethod
    async def open(cls, address: RedisAddress, on_push: Push | None = None,
                   timeout: float = 5.0) -> RedisConnection:
        """Connect, log in and select the database; raise OSError or ReplyError."""
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if address.tls else None
        _, connection = await asyncio.wait_for(loop.create_connection(
            lambda: cls(on_push), address.host, address.port, ssl=context), timeout)
        try:
            await asyncio.wait_for(connection._log_in(address), timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    async def _log_in(self, address: RedisAddress) -> None:
        if address.password:
            user = [address.username] if address.username else []
            await self.command("AUTH", *user, address.password)
        if address.db and self._on_push is None:
            await self.command("SELECT", address.db)
        await self.command("PING")

    # --- sending -----------------------------------------------------------------------

    def command(self, *parts: Part) -> asyncio.Future[Any]:
        """Send a command; the future gets its reply (or ReplyError / ConnectionError)."""
        future: asyncio.Future[Any] = self._loop.create_future()
        if not self._write(encode_command(*parts), future):
            future.set_exception(ConnectionError("redis connection is closed"))
        return future

    def send(self, command: bytes) -> bool:
        """Send an encoded command whose reply nobody needs; False if closed."""
        return self._write(command, None)

    def send_subscription(self, command: bytes) -> bool:
        """Send (UN)SUBSCRIBE or PING on a subscriber: their answers arrive as pushes."""
        return self._write(command, None, expects_reply=False)

    def _write(self, data: bytes, future: asyncio.Future[Any] | None,
               expects_reply: bool = True) -> bool:
        if self._transport is None:
            return False
        if expects_reply:
            self._waiting.append(future)
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(data)
        return True

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and self._transport is not None:
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))

    @property
    def backlog(self) -> int:
        """Bytes written but not yet accepted by the kernel."""
        if self._transport is None:
            return 0
        return self._transport.get_write_buffer_size() + sum(len(b) for b in self._out)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # --- receiving -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        try:
            replies = self._parser.replies()
        except (ProtocolError, ValueError) as exc:
            log.error("unreadable reply from redis (%s); dropping the connection", exc)
            self.close()
            return
        for reply in replies:
            self._dispatch(reply)

    def _dispatch(self, reply: Any) -> None:
        if self._waiting:
            future = self._waiting.popleft()
            if future is None:
                if isinstance(reply, ReplyError):
                    log.warning("redis refused a command: %s", reply)
            elif not future.done():
                if isinstance(reply, ReplyError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        elif self._on_push is not None:
            self._on_push(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._out = []
        while self._waiting:
            future = self._waiting.popleft()
            if future is not None and not future.done():
                future.set_exception(ConnectionError("redis connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)
