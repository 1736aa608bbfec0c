"""A crowd on one node: RSS per idle socket, one message to everyone, a 1,000-message burst.

The server runs pinned to one core; the sockets are held by ``--workers`` generator
processes pinned to the other (a process may hold at most the descriptor hard limit,
20,000 on this machine kind, and the sandbox cannot raise it). Each worker opens its
share of the sockets, learns their ids with ``getId`` and joins them to one public live
room. Then, per target:

1. RSS per idle socket: the server's resident memory after the joins, less before
   the sockets opened, over N;
2. one message at a time (``--singles``, one a second): send-to-receive latency over
   every sampled socket, p50/p99/p99.9/max;
3. a burst of ``--burst`` messages, 12 in flight: every frame must arrive and no
   socket that reads may be closed as a slow consumer; frames/s, server CPU per frame.

The server needs a descriptor per socket plus a few dozen of its own, so N is capped
to fit under its own limit (the run says so): 19,900 sockets where 20,000 was asked.

    python bench/crowd.py --sockets 20000

Prints the figures of each target side by side and writes bench/results/crowd-<stamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop
from fanout import (
    Counters,
    HttpClient,
    Options,
    Server,
    current_conversation,
    ensure_baseline_installed,
    join_room,
    open_sockets,
    percentile,
    pin_generator,
    post_messages,
    post_one,
    start_server,
    stop_server,
    wait_healthy,
)
from proc_cpu import SATURATED_PCT, tree_cpu_s
from result_files import write_result_file

SERVER_SPARE_FDS = 100
"""Descriptors the server keeps for itself (listeners, database, logs, HTTP clients)."""


@dataclass
class CrowdResult:
    target: str
    sockets: int
    asked: int
    workers: int
    connect_s: float = 0.0
    join_s: float = 0.0
    rss_per_open_socket: float = 0.0
    """Before the joins: what an open socket costs the server alone."""
    rss_per_socket: float = 0.0
    """After the joins (connection rows, room membership, the database's cache)."""
    single_messages: int = 0
    single_delivered: int = 0
    single_p50_ms: float = 0.0
    single_p99_ms: float = 0.0
    single_p999_ms: float = 0.0
    single_max_ms: float = 0.0
    single_samples: int = 0
    single_server_cpu_ms: float = 0.0
    single_generator_cpu_ms: float = 0.0
    burst_messages: int = 0
    burst_expected: int = 0
    burst_delivered: int = 0
    burst_s: float = 0.0
    burst_frames_per_s: float = 0.0
    burst_p99_ms: float = 0.0
    burst_cpu_per_frame_us: float = 0.0
    burst_server_cpu_pct: float = 0.0
    burst_generator_cpu_pct: float = 0.0
    closed_sockets: int = 0
    error: str = ""
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- a worker process


def worker_main(conn: Connection, core: int | None, ws_url: str, http_port: int, share: int,
                conversation_id: str) -> None:  # fmt: skip
    if core is not None:
        os.sched_setaffinity(0, {core})
    uvloop.run(serve_commands(conn, ws_url, http_port, share, conversation_id))


async def serve_commands(
    conn: Connection, ws_url: str, http_port: int, share: int, conversation_id: str
) -> None:
    """Open and join ``share`` sockets, then answer the coordinator until told to stop."""
    counters = Counters()
    client = HttpClient("127.0.0.1", http_port)
    sockets = await open_sockets(ws_url, share, counters, 200)
    conn.send("opened")
    while (command := await asyncio.to_thread(conn.recv)) != "stop":
        if command == "join":
            ids = [listener.socket_id.result() for _, listener in sockets]
            await join_room(client, conversation_id, ids, 500)
            conn.send("joined")
        elif command == "activity":
            conn.send((counters.messages, counters.other, counters.closed))
        elif command == "reset":
            counters.reset()
            conn.send("ok")
        elif command == "report":
            conn.send((counters.messages, counters.closed, counters.latencies_ns.tobytes()))
    for transport, _ in sockets:
        transport.disconnect(graceful=False)
    client.close()
    conn.send("stopped")


# ---------------------------------------------------------------- the coordinator


class Crowd:
    """The worker processes of one run, and questions to all of them at once."""

    def __init__(self, server: Server, n: int, workers: int, core: int | None, room: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.links: list[Connection] = []
        self.processes = []
        shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
        for share in shares:
            ours, theirs = context.Pipe()
            args = (theirs, core, server.ws_url, server.http_port, share, room)
            process = context.Process(target=worker_main, args=args, daemon=True)
            process.start()
            self.links.append(ours)
            self.processes.append(process)

    async def ask(self, command: str) -> list[Any]:
        for link in self.links:
            link.send(command)
        return [await asyncio.to_thread(link.recv) for link in self.links]

    async def opened(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(link.recv) for link in self.links))

    async def delivered(self) -> int:
        return sum(messages for messages, _, _ in await self.ask("activity"))

    async def wait_quiet(self, quiet_s: float, cap_s: float) -> None:
        deadline = time.monotonic() + cap_s
        seen, since = await self.ask("activity"), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
            await asyncio.sleep(0.1)
            if (now := await self.ask("activity")) != seen:
                seen, since = now, time.monotonic()

    async def wait_delivered(self, expected: int, stall_s: float) -> int:
        seen, since = await self.delivered(), time.monotonic()
        while seen < expected and time.monotonic() - since < stall_s:
            await asyncio.sleep(0.05)
            if (now := await self.delivered()) != seen:
                seen, since = now, time.monotonic()
        return seen

    async def report(self) -> tuple[int, int, list[int]]:
        delivered, closed, latencies = 0, 0, array("q")
        for messages, lost, raw in await self.ask("report"):
            delivered, closed = delivered + messages, closed + lost
            latencies.frombytes(raw)
        return delivered, closed, sorted(latencies)

    def cpu_s(self) -> float:
        return sum(tree_cpu_s(p.pid) for p in self.processes if p.pid is not None)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.ask("stop"), 30)
        finally:
            for process in self.processes:
                process.kill()
                process.join(5)


def options(burst: int, core: int | None) -> Options:
    return Options(
        messages=burst, concurrency=12, join_batch=500, connect_concurrency=200, stall_s=30.0,
        run_timeout_s=900.0, server_start_s=30.0, wait_idle_s=0.0, server_core=core,
    )  # fmt: skip


async def measure(server: Server, result: CrowdResult, args: argparse.Namespace,
                  core: int | None, generator_core: int | None) -> None:  # fmt: skip
    opts = options(args.burst, core)
    client = HttpClient("127.0.0.1", server.http_port)
    await wait_healthy(server, client, opts.server_start_s)
    room = await current_conversation(client)
    await asyncio.sleep(0.5)
    rss_before = server.rss()
    started = time.perf_counter()
    crowd = Crowd(server, result.sockets, result.workers, generator_core, room)
    try:
        await crowd.opened()
        result.connect_s = time.perf_counter() - started
        await asyncio.sleep(0.5)
        result.rss_per_open_socket = (server.rss() - rss_before) / result.sockets
        started = time.perf_counter()
        await crowd.ask("join")
        result.join_s = time.perf_counter() - started
        await crowd.wait_quiet(1.0, 120.0)  # the joins' attendance frames
        result.rss_per_socket = (server.rss() - rss_before) / result.sockets
        await singles(server, crowd, client, room, opts, result, args.singles)
        await burst(server, crowd, client, room, opts, result)
        result.notes.extend(close_reasons(server))
    finally:
        server.kill()  # before the sockets close: no per-close attendance storm
        client.close()
        await crowd.stop()


async def singles(server: Server, crowd: Crowd, client: HttpClient, room: str, opts: Options,
                  result: CrowdResult, count: int) -> None:  # fmt: skip
    """One message a second: the latency of one message to everyone."""
    await crowd.ask("reset")
    server_cpu, generator_cpu = server.cpu_s(), crowd.cpu_s()
    for _ in range(count):
        await post_one(client, room, opts)
        await asyncio.sleep(1.0)  # load pacing, not synchronisation
    expected = count * result.sockets
    await crowd.wait_delivered(expected, opts.stall_s)
    # CPU per message on each side: whichever is near the latency set it.
    result.single_server_cpu_ms = 1e3 * (server.cpu_s() - server_cpu) / count
    result.single_generator_cpu_ms = 1e3 * (crowd.cpu_s() - generator_cpu) / count
    result.single_messages = count
    result.single_delivered, _, latencies = await crowd.report()
    result.single_samples = len(latencies)
    result.single_p50_ms = percentile(latencies, 0.5)
    result.single_p99_ms = percentile(latencies, 0.99)
    result.single_p999_ms = percentile(latencies, 0.999)
    result.single_max_ms = percentile(latencies, 1.0)


async def burst(server: Server, crowd: Crowd, client: HttpClient, room: str, opts: Options,
                result: CrowdResult) -> None:  # fmt: skip
    """``opts.messages`` as fast as 12 requests in flight allow; every frame must arrive."""
    await crowd.wait_quiet(0.5, 30.0)
    await crowd.ask("reset")
    server_cpu, generator_cpu = server.cpu_s(), crowd.cpu_s()
    started = time.perf_counter()
    await post_messages(client, room, opts.messages, opts)
    result.burst_expected = opts.messages * result.sockets
    await crowd.wait_delivered(result.burst_expected, opts.stall_s)
    wall = time.perf_counter() - started
    server_cpu, generator_cpu = server.cpu_s() - server_cpu, crowd.cpu_s() - generator_cpu
    result.burst_messages, result.burst_s = opts.messages, wall
    result.burst_delivered, result.closed_sockets, latencies = await crowd.report()
    result.burst_frames_per_s = result.burst_delivered / wall
    result.burst_p99_ms = percentile(latencies, 0.99)
    result.burst_cpu_per_frame_us = 1e6 * server_cpu / max(result.burst_delivered, 1)
    result.burst_server_cpu_pct = 100 * server_cpu / wall
    result.burst_generator_cpu_pct = 100 * generator_cpu / wall


CLOSE_REASONS = {"slow consumer": "cannot keep up", "missed pong": "missed a pong"}
"""What Steeple's log says when it closes a socket, by reason (``steeple serve`` logs at INFO)."""


def close_reasons(server: Server) -> list[str]:
    """The sockets the server closed, by reason, from its log (Steeple only)."""
    if server.name != "steeple" or not server.log_path.exists():
        return []
    text = server.log_path.read_text(errors="replace")
    counts = {reason: text.count(line) for reason, line in CLOSE_REASONS.items()}
    return [f"server closed: {', '.join(f'{n:,} {r}' for r, n in counts.items())}"]


def run_one(target: str, args: argparse.Namespace, server_core: int | None,
            generator_core: int | None) -> CrowdResult:  # fmt: skip
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    n = min(args.sockets, limit - SERVER_SPARE_FDS)
    result = CrowdResult(target, n, args.sockets, args.workers)
    if n < args.sockets:
        result.notes.append(
            f"{n:,} sockets, not {args.sockets:,}: the server may hold {limit:,} descriptors"
        )
    with tempfile.TemporaryDirectory(prefix=f"crowd-{target}-") as tmp:
        server = start_server(target, server_core, Path(tmp))
        try:
            uvloop.run(measure(server, result, args, server_core, generator_core))
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}".strip()
            print(f"  {target} failed: {result.error}\n{server.log_tail()}", file=sys.stderr)
        finally:
            stop_server(server)
    return result


ROWS: list[tuple[str, str, str]] = [
    ("sockets", "sockets", "{:,.0f}"),
    ("connect s", "connect_s", "{:.1f}"),
    ("join s", "join_s", "{:.1f}"),
    ("RSS/open socket KiB", "rss_per_open_socket", "{:.2f}"),
    ("RSS/idle socket KiB", "rss_per_socket", "{:.2f}"),
    ("one message p50 ms", "single_p50_ms", "{:.1f}"),
    ("one message p99 ms", "single_p99_ms", "{:.1f}"),
    ("one message p99.9 ms", "single_p999_ms", "{:.1f}"),
    ("one message max ms", "single_max_ms", "{:.1f}"),
    ("one message server CPU ms", "single_server_cpu_ms", "{:.1f}"),
    ("one message gen. CPU ms", "single_generator_cpu_ms", "{:.1f}"),
    ("burst frames/s", "burst_frames_per_s", "{:,.0f}"),
    ("burst p99 ms", "burst_p99_ms", "{:.0f}"),
    ("burst CPU us/frame", "burst_cpu_per_frame_us", "{:.2f}"),
    ("burst server CPU %", "burst_server_cpu_pct", "{:.0f}"),
    ("burst generator CPU %", "burst_generator_cpu_pct", "{:.0f}"),
    ("slow-consumer closes", "closed_sockets", "{:,.0f}"),
]


def report(results: list[CrowdResult]) -> str:
    lines = [f"{'metric':<24}" + "".join(f"{r.target:>16}" for r in results)]
    for label, key, fmt in ROWS:
        cells = []
        for r in results:
            value = getattr(r, key)
            if key.startswith("rss_"):
                value /= 1024
            cells.append("error" if r.error else fmt.format(value))
        lines.append(f"{label:<24}" + "".join(f"{c:>16}" for c in cells))
    for r in results:
        delivered = f"{r.burst_delivered:,}/{r.burst_expected:,}"
        lines.append(f"{r.target}: burst delivered {delivered}, singles "
                     f"{r.single_delivered:,}/{r.single_messages * r.sockets:,}")  # fmt: skip
        if r.burst_generator_cpu_pct > SATURATED_PCT:
            lines.append(f"{r.target}: generator saturated in the burst (>90% of its core)")
        lines += [f"{r.target}: {note}" for note in r.notes]
        if r.error:
            lines.append(f"{r.target}: error: {r.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sockets", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4, help="generator processes")
    parser.add_argument("--singles", type=int, default=10, help="messages sent one a second")
    parser.add_argument("--burst", type=int, default=1_000, help="messages in the burst")
    parser.add_argument("--targets", default="steeple,baseline")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    if "baseline" in targets:
        ensure_baseline_installed()
    server_core = pin_generator(args.no_pin)
    generator_core = None if server_core is None else min(os.sched_getaffinity(0))
    results = []
    for target in targets:
        print(f"running {target} with {args.sockets:,} sockets ...", file=sys.stderr)
        results.append(run_one(target, args, server_core, generator_core))
    print(report(results))
    path = write_result_file(
        "crowd",
        {
            "arguments": vars(args),
            "pinning": {"server": server_core, "generator": generator_core},
            "results": [asdict(r) for r in results],
        },
    )
    print(f"\nresults: {path}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
