"""One WebSocket to a Steeple node, kept open: the client side of PROTOCOL §2 and §8.

Like ChurchApps' ``SocketHelper``, one socket is shared by every component of a
client. Unlike it, there are no statics: each :class:`Socket` is an object its caller
owns, so a process can hold several independent clients.

The socket's life: open, send ``getId``, wait up to ``id_timeout`` for the socketId,
then read frames and hand each to the handlers of its action. When the connection
drops without :meth:`Socket.close` being called, a supervisor reconnects after a
full-jitter backoff delay. Each fresh socket gets a new socketId from the server;
that fires the ``on_socket_id`` listeners (subscriptions re-join their rooms) and,
after the first connection, a local ``reconnect`` event for the handlers.
Protocol-level pings from the server are answered by ``websockets`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

import websockets
from websockets.asyncio.client import ClientConnection

from steeple.client.backoff import Backoff
from steeple.client.errors import SocketError, SocketIdTimeout
from steeple.client.models import Frame
from steeple.protocol.frames import Action, decode_frame

log = logging.getLogger(__name__)

RECONNECT = "reconnect"
"""Local event: a fresh socket replaced a dropped one (``data`` is the new socketId)."""
DISCONNECT = "disconnect"
"""Local event: the socket dropped; the supervisor is about to reconnect."""

Handler = Callable[[Frame], None]
SocketIdListener = Callable[[str], None]


class Socket:
    """A self-healing WebSocket. Use as ``async with Socket(url) as socket:``."""

    def __init__(
        self,
        url: str,
        *,
        backoff: Backoff | None = None,
        id_timeout: float = 5.0,
        probe_timeout: float = 3.0,
        quiet_after: float | None = 60.0,
        open_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self._backoff = backoff or Backoff()
        self._id_timeout = id_timeout
        self._probe_timeout = probe_timeout
        self._quiet_after = quiet_after
        self._open_timeout = open_timeout
        self._handlers: dict[str, dict[str, Handler]] = {}
        self._id_listeners: list[SocketIdListener] = []
        self._ws: ClientConnection | None = None
        self._socket_id: str | None = None
        self._last_id: str | None = None
        self._id_ready = asyncio.Event()
        self._probes: list[asyncio.Future[str]] = []
        self._runner: asyncio.Task[None] | None = None
        self._closed = False
        self._attempt = 0
        self._last_heard = 0.0

    # --- public API -----------------------------------------------------------------------

    @property
    def socket_id(self) -> str | None:
        """The socketId of the open socket; ``None`` while disconnected."""
        return self._socket_id

    @property
    def connected(self) -> bool:
        return self._socket_id is not None

    async def connect(self) -> str:
        """Start the socket (once; later and concurrent calls share it); return the socketId.

        Raises :class:`SocketIdTimeout` if no socketId arrives within ``id_timeout``; the
        socket keeps trying in the background until :meth:`close`.
        """
        if self._closed:
            raise SocketError("the socket is closed")
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"steeple-socket {self.url}"
            )
        return await self.get_id(self._id_timeout)

    async def get_id(self, timeout: float = 5.0) -> str:
        """The socketId, waiting up to ``timeout`` for a (re)connection to provide one."""
        try:
            await asyncio.wait_for(self._id_ready.wait(), timeout)
        except TimeoutError:
            raise SocketIdTimeout(f"no socketId from {self.url} within {timeout} s") from None
        if self._socket_id is None:  # dropped again between the wake-up and now
            return await self.get_id(timeout)
        return self._socket_id

    def add_handler(self, action: str, handler_id: str, handler: Handler) -> None:
        """Register (or replace) the handler ``handler_id`` for frames of ``action``."""
        self._handlers.setdefault(action, {})[handler_id] = handler

    def remove_handler(self, action: str, handler_id: str) -> None:
        self._handlers.get(action, {}).pop(handler_id, None)

    def on_socket_id(self, listener: SocketIdListener) -> Callable[[], None]:
        """Call ``listener(socketId)`` for every new socketId; returns an unsubscribe."""
        self._id_listeners.append(listener)
        return lambda: self._id_listeners.remove(listener)

    async def probe(self, timeout: float | None = None) -> bool:
        """Send ``getId`` and wait for the answer: is the quiet socket still alive?

        A socket that does not answer within ``timeout`` (default ``probe_timeout``) is
        dropped, so the supervisor replaces it.
        """
        ws = self._ws
        if ws is None or self._socket_id is None:
            return False
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._probes.append(answer)
        try:
            await ws.send("getId")
            await asyncio.wait_for(answer, timeout or self._probe_timeout)
            return True
        except (TimeoutError, websockets.ConnectionClosed, SocketError):
            log.info("socket %s did not answer a probe; replacing it", self._socket_id)
            if ws is self._ws:
                ws.transport.abort()
            return False
        finally:
            with contextlib.suppress(ValueError):
                self._probes.remove(answer)

    async def close(self) -> None:
        """Close for good: no reconnect, no more events."""
        self._closed = True
        ws, runner = self._ws, self._runner
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._socket_id = None
        self._id_ready.clear()

    async def __aenter__(self) -> Socket:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- the supervisor -------------------------------------------------------------------

    async def _supervise(self) -> None:
        while not self._closed:
            try:
                async with websockets.connect(
                    self.url,
                    compression=None,
                    open_timeout=self._open_timeout,
                    close_timeout=1.0,
                    proxy=None,
                ) as ws:
                    self._ws = ws
                    await self._session(ws)
            except (OSError, TimeoutError, websockets.WebSocketException, SocketError) as exc:
                log.info("socket to %s dropped: %s", self.url, exc or type(exc).__name__)
            except Exception:
                log.exception("socket to %s failed", self.url)
            finally:
                self._dropped()
            if self._closed:
                return
            delay = self._backoff.delay(self._attempt)
            self._attempt += 1
            log.debug("reconnecting to %s in %.2f s", self.url, delay)
            await asyncio.sleep(delay)

    async def _session(self, ws: ClientConnection) -> None:
        await ws.send("getId")
        socket_id = await asyncio.wait_for(self._first_id(ws), self._id_timeout)
        self._adopt(socket_id)
        watchdog = None
        if self._quiet_after:
            watchdog = asyncio.get_running_loop().create_task(self._watch_quiet(ws))
        try:
            async for raw in ws:
                self._receive(raw)
        finally:
            if watchdog is not None:
                watchdog.cancel()

    async def _first_id(self, ws: ClientConnection) -> str:
        async for raw in ws:
            frame = self._parse(raw)
            if frame is not None and frame.action == Action.SOCKET_ID:
                return str(frame.data)
            if frame is not None:
                self._dispatch(frame)
        raise SocketError("closed before sending a socketId")

    async def _watch_quiet(self, ws: ClientConnection) -> None:
        assert self._quiet_after is not None
        loop = asyncio.get_running_loop()
        while ws is self._ws:
            await asyncio.sleep(self._quiet_after)
            if loop.time() - self._last_heard >= self._quiet_after:
                await self.probe()

    def _adopt(self, socket_id: str) -> None:
        previous = self._last_id
        self._socket_id = self._last_id = socket_id
        self._last_heard = asyncio.get_running_loop().time()
        self._id_ready.set()
        if socket_id == previous:
            return
        self._attempt = 0
        log.info("socket to %s has socketId %s", self.url, socket_id)
        for listener in list(self._id_listeners):
            try:
                listener(socket_id)
            except Exception:
                log.exception("socketId listener failed")
        if previous is not None:
            self._dispatch(Frame("", "", RECONNECT, socket_id))

    def _dropped(self) -> None:
        self._ws = None
        for answer in self._probes:
            if not answer.done():
                answer.set_exception(SocketError("socket dropped"))
        if self._socket_id is None:
            return
        self._socket_id = None
        self._id_ready.clear()
        if not self._closed:
            self._dispatch(Frame("", "", DISCONNECT, None))

    # --- frames ---------------------------------------------------------------------------

    def _receive(self, raw: str | bytes) -> None:
        self._last_heard = asyncio.get_running_loop().time()
        frame = self._parse(raw)
        if frame is None:
            return
        if frame.action == Action.SOCKET_ID:
            for answer in self._probes:
                if not answer.done():
                    answer.set_result(str(frame.data))
            return
        self._dispatch(frame)

    @staticmethod
    def _parse(raw: str | bytes) -> Frame | None:
        try:
            return Frame.from_json(decode_frame(raw))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a frame that is not JSON of the protocol: %.80r", raw)
            return None

    def _dispatch(self, frame: Frame) -> None:
        for handler_id, handler in list(self._handlers.get(frame.action, {}).items()):
            try:
                handler(frame)
            except Exception:
                log.exception("handler %s for %s failed", handler_id, frame.action)
