"""A database outage told apart from a bug, and reported once.

While the database is unreachable every request that needs it fails the same way.
Answering each with a 500 and a traceback floods the log and tells clients nothing.
Instead a request that meets an outage answers 503 with ``Retry-After``; the first one
logs a single line saying the database is gone, a probe pings it until it answers,
and one more line says it is back and how long it was away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import sqlalchemy.exc

from steeple.stopping import cancel_and_wait

log = logging.getLogger(__name__)

RETRY_AFTER = 2
"""Seconds a client is told to wait; about how long the probe takes to notice a return."""

PROBE_INTERVAL = 1.0

_UNREACHABLE: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
)
_DRIVER_MODULES = ("asyncpg", "aiomysql", "pymysql")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _driver_connection_error(exc: BaseException) -> bool:
    """asyncpg's and the MySQL drivers' own connection errors, by their names."""
    kind = type(exc)
    if not kind.__module__.startswith(_DRIVER_MODULES):
        return False
    names = {base.__name__ for base in kind.__mro__}
    return bool(
        names
        & {
            "PostgresConnectionError",
            "ConnectionDoesNotExistError",
            "CannotConnectNowError",
            "InterfaceError",
            "OperationalError",
        }
    )


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached."""
    for cause in _causes(exc):
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _UNREACHABLE) or _driver_connection_error(cause):
            return True
    return False


class DatabaseOutage:
    """Whether the database is away now; one log line when it goes, one when it is back."""

    def __init__(self, ping: Callable[[], Awaitable[bool]]) -> None:
        self._ping = ping
        self._since: float | None = None
        self._probe: asyncio.Task[None] | None = None
        self._repairs: list[Callable[[], Awaitable[Any]]] = []

    @property
    def down(self) -> bool:
        return self._since is not None

    def when_back(self, repair: Callable[[], Awaitable[Any]]) -> None:
        """Run ``repair`` after each outage, for work that could not be done meanwhile."""
        self._repairs.append(repair)

    def absorb(self, exc: BaseException) -> bool:
        """True if ``exc`` is an outage (now noted); False if it is some other failure."""
        if not is_unreachable(exc):
            return False
        if self._since is None:
            self._since = time.monotonic()
            log.error(
                "database unreachable (%s); answering 503 until it is back",
                type(exc).__name__,
            )
            self._probe = asyncio.get_running_loop().create_task(self._wait_for_return())
        return True

    def reported(self, reachable: bool) -> None:
        """A ping's answer, from ``/health``: an outage may start or end here too."""
        if not reachable and self._since is None:
            self.absorb(ConnectionError("the health check's ping failed"))

    async def _wait_for_return(self) -> None:
        while True:  # the database has no way to call back: ask it until it answers
            if await self._ping():
                break
            await asyncio.sleep(PROBE_INTERVAL)
        assert self._since is not None
        log.warning("database back after %.1f s", time.monotonic() - self._since)
        self._since = None
        for repair in self._repairs:
            try:
                await repair()
            except Exception as exc:
                if not self.absorb(exc):
                    log.exception("repair after the database outage failed")

    async def close(self) -> None:
        if self._probe is not None:
            await cancel_and_wait(self._probe, "the database outage probe")
