"""``steeple serve`` with probes, for the latency-tail investigation (bench only).

    python bench/probe_serve.py serve --port ... (the arguments of ``steeple serve``)

Started by ``bench/fanout.py --probe``. SIGUSR2 clears the probes, SIGUSR1 writes what
they saw since to ``STEEPLE_PROBE_OUT`` (JSON): the duration of every garbage-collector
pass by generation, event-loop lag (a 5 ms timer's lateness), and per message post the
time spent in each step of the post path (the whole ``POST /messages/send`` handler, the
group commit wait, the commit itself (on SQLite one round trip to the writer thread of
``storage/transactions.py``), the write of the frames to the sockets), each with the
start time, so a slow post can be matched against a collector pass or a lag spike.

Switches (A/B experiments; none changes Steeple's code):

* ``STEEPLE_PROBE_GC``: ``freeze`` (``gc.freeze()`` every ``STEEPLE_PROBE_FREEZE_S``
  seconds, default 2: the long-lived socket objects leave the collector's view),
  ``threshold:<g0>,<g1>,<g2>`` (``gc.set_threshold``), ``off`` (``gc.disable()``).
* ``STEEPLE_PROBE_WAL_AUTOCHECKPOINT``: SQLite's ``wal_autocheckpoint`` pages (Steeple
  sets 0 and checkpoints in the background; 1000, SQLite's default, checkpoints inside
  the commit that crosses 1,000 pages, as before).
* ``STEEPLE_PROBE_PING_INTERVAL``: seconds between heartbeats (``Settings.ping_interval``).
* ``STEEPLE_PROBE_PROFILE=1``: cProfile between SIGUSR2 and SIGUSR1, written beside the
  JSON as ``<out>.prof``.
"""

from __future__ import annotations

import asyncio
import cProfile
import dataclasses
import functools
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from steeple import cli
from steeple.hub import Hub
from steeple.node import Node
from steeple.outbox import Outbox
from steeple.services.messages import MessageService
from steeple.storage.group_commit import GroupCommit
from steeple.storage.messages import MessageRepository
from steeple.web.socket_edge import EdgeSocket

LAG_PERIOD_S = 0.005


class Probes:
    """Intervals (start, duration) per probe name, in perf_counter seconds."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float, float]]] = {}
        self.statements: dict[str, int] = {}
        self.profile: cProfile.Profile | None = None
        self._gc_started = self._gc_cpu = 0.0

    def clear(self) -> None:
        self.spans, self.statements = {}, {}
        if os.environ.get("STEEPLE_PROBE_PROFILE") == "1":
            self.profile = cProfile.Profile()
            self.profile.enable()

    def add(self, name: str, start: float, end: float, cpu: float = 0.0) -> None:
        """An interval: its start, wall duration and main-thread CPU time (s)."""
        self.spans.setdefault(name, []).append((start, end - start, cpu))

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if phase == "start":
            self._gc_started, self._gc_cpu = now, cpu
        else:
            self.add(f"gc{info['generation']}", self._gc_started, now, cpu - self._gc_cpu)

    def heap(self) -> dict[str, float]:
        """The heap now; its forced collection is not one of the probed passes."""
        gc.callbacks.remove(self.on_gc)
        try:
            return heap()
        finally:
            gc.callbacks.append(self.on_gc)

    def on_statement(self, statement: str) -> None:
        key = " ".join(statement.split()[:4])[:60]
        self.statements[key] = self.statements.get(key, 0) + 1

    def dump(self) -> None:
        out = os.environ["STEEPLE_PROBE_OUT"]
        if self.profile is not None:
            self.profile.disable()
            self.profile.dump_stats(out + ".prof")
            self.profile = None
        with open(out + ".tmp", "w") as file:
            json.dump({"spans": self.spans, "statements": self.statements,
                       "gc_threshold": gc.get_threshold(), "heap": self.heap()}, file)  # fmt: skip
        os.replace(out + ".tmp", out)


def heap() -> dict[str, float]:
    """Objects the collector tracks, and what one full collection of them costs now."""
    tracked, frozen = len(gc.get_objects()), gc.get_freeze_count()
    wall, cpu = time.perf_counter(), time.thread_time()
    gc.collect()
    return {"tracked_objects": tracked, "frozen_objects": frozen,
            "full_collection_ms": 1e3 * (time.perf_counter() - wall),
            "full_collection_cpu_ms": 1e3 * (time.thread_time() - cpu)}  # fmt: skip


def timed_coroutine(probes: Probes, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            probes.add(name, start, time.perf_counter())  # awaits: CPU not attributable

    return wrapper


def timed_function(probes: Probes, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            probes.add(name, start, time.perf_counter(), time.thread_time() - cpu)

    return wrapper


def checkpoints(probes: Probes, method: Callable[..., Any]) -> Callable[..., Any]:
    """A commit during which the database file changed: it ran a WAL checkpoint (with
    SQLite's automatic checkpoints) or overlapped a background one (Steeple's)."""
    database = os.environ.get("STEEPLE_PROBE_DB", "")

    def mtime() -> int:
        return os.stat(database).st_mtime_ns if database and os.path.exists(database) else 0

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        before, start = mtime(), time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            if mtime() != before:
                probes.add("checkpoint", start, time.perf_counter())

    return wrapper


def install(probes: Probes) -> None:
    MessageService.send = timed_coroutine(probes, "send", MessageService.send)  # type: ignore[method-assign]
    GroupCommit.add = timed_coroutine(probes, "group_commit", GroupCommit.add)  # type: ignore[method-assign]
    MessageRepository.add = timed_coroutine(probes, "commit", MessageRepository.add)  # type: ignore[method-assign]
    Outbox.flush = timed_function(probes, "socket_writes", Outbox.flush)  # type: ignore[method-assign]
    Hub.heartbeat = timed_function(probes, "heartbeat", Hub.heartbeat)  # type: ignore[method-assign]
    EdgeSocket.data_received = timed_function(probes, "inbound", EdgeSocket.data_received)  # type: ignore[method-assign]
    MessageRepository.add = checkpoints(probes, MessageRepository.add)  # type: ignore[method-assign]
    ping = os.environ.get("STEEPLE_PROBE_PING_INTERVAL")
    if ping is not None:
        original_init = Node.__init__

        def init(self: Node, settings: Any, *args: Any, **kwargs: Any) -> None:
            settings = dataclasses.replace(settings, ping_interval=float(ping))
            original_init(self, settings, *args, **kwargs)

        Node.__init__ = init  # type: ignore[method-assign]
    gc.callbacks.append(probes.on_gc)
    starts: list[float] = []

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        probes.on_statement(statement)
        starts.append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(*_: Any) -> None:
        if starts:  # one connection at a time on SQLite: LIFO is the right pairing
            probes.add("sql", starts.pop(), time.perf_counter())

    wal = os.environ.get("STEEPLE_PROBE_WAL_AUTOCHECKPOINT")
    if wal is not None:

        @event.listens_for(Engine, "connect")
        def _autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal)}")
            cursor.close()


async def watch_lag(probes: Probes) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_PERIOD_S
        await asyncio.sleep(LAG_PERIOD_S)
        late = loop.time() - due
        if late > 0.002:
            now = time.perf_counter()
            probes.add("loop_lag", now - late, now)


async def gc_policy() -> None:
    setting = os.environ.get("STEEPLE_PROBE_GC", "")
    if setting == "off":
        gc.disable()
    elif setting.startswith("threshold:"):
        gc.set_threshold(*(int(v) for v in setting.split(":", 1)[1].split(",")))
    elif setting == "freeze":
        period = float(os.environ.get("STEEPLE_PROBE_FREEZE_S", "2"))
        while True:
            gc.freeze()
            await asyncio.sleep(period)


def main() -> int:
    probes = Probes()
    install(probes)
    signal.signal(signal.SIGUSR2, lambda *_: probes.clear())
    signal.signal(signal.SIGUSR1, lambda *_: probes.dump())
    original_run = cli._run

    def run_with_probes(main_coroutine: Callable[[], Any]) -> int:
        async def probed() -> int:
            background = [asyncio.create_task(watch_lag(probes)),
                          asyncio.create_task(gc_policy())]  # fmt: skip
            try:
                return int(await main_coroutine())
            finally:
                for task in background:
                    task.cancel()

        return original_run(probed)

    cli._run = run_with_probes  # type: ignore[assignment]
    return cli.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
