"""Fault benchmark: a Redis blip under load, two nodes, one room spread over both.

Two ``steeple serve`` processes (``DELIVERY_PROVIDER=redis``) share a fresh PostgreSQL
database and a private ``redis-server`` (persistence off, on a port of its own). The
generator (this process: picows on uvloop) opens N sockets per node, all in one room,
each joined through the other node, and posts at a steady rate round-robin to the two
nodes. After ``--warmup`` seconds (not measured) and ``--before`` seconds more, Redis
is killed (SIGKILL) and restarted on the same port ``--outage`` seconds later (so it
comes back empty); posting goes on for ``--after`` seconds more.

Reported:

* **frames lost**: acknowledged messages missing on a socket still open at the end
  (must be 0); duplicates; sockets closed with 1012 (their clients would catch up) and
  what those had missed;
* **recovery**: from Redis accepting connections again until both nodes report
  ``"redis": "up"`` in ``/health``, and until the last frame of every message posted
  before that moment has reached every socket;
* **p50/p99 latency** (send to receive, every frame) of messages posted before the
  blip, during it (kill to Redis back) and after it;
* ``/health`` answers seen during the outage (they must be 200).

    python bench/faults.py --sockets 500 --rate 200 --runs 3

Prints a table and writes bench/results/faults-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import uvloop
from fanout import (
    CHURCH_ID,
    CONTENT_TAG,
    MESSAGE_TAG,
    SERVICE_ID,
    SOCKET_ID_TAG,
    STAMP_DIGITS,
    HttpClient,
    HttpError,
    Server,
    free_port,
    percentile,
    raise_fd_limit,
    stop_server,
)
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from result_files import write_result_file

from cluster import create_database, drop_database, join_through_next_node, migrate, start_node
from cluster import wait_healthy as wait_node_healthy

NUMBER_DIGITS = 7
PADDING = "x" * (200 - STAMP_DIGITS - NUMBER_DIGITS - 2)


@dataclass
class BlipRun:
    sockets: int
    rate: float
    posted: int = 0
    acknowledged: int = 0
    frames_expected: int = 0
    frames_lost: int = 0
    duplicates: int = 0
    closed_1012: int = 0
    missed_on_closed: int = 0
    closed_other: int = 0
    nodes_up_s: float = 0.0
    recovery_s: float = 0.0
    outage_s: float = 0.0
    p50_before_ms: float = 0.0
    p99_before_ms: float = 0.0
    p50_during_ms: float = 0.0
    p99_during_ms: float = 0.0
    p50_after_ms: float = 0.0
    p99_after_ms: float = 0.0
    health_codes: dict[str, int] = field(default_factory=dict)
    replayed: int = 0
    error: str | None = None


class Frames:
    """Every message frame of the run: which message, when it arrived, how late."""

    def __init__(self) -> None:
        self.numbers = array("q")
        self.arrived_ns = array("q")
        self.latency_ns = array("q")


class BlipListener(WSListener):
    """Counts each message (by number) on one socket and keeps every frame's timing."""

    def __init__(self, frames: Frames, capacity: int) -> None:
        self.frames = frames
        self.received = bytearray(capacity)
        self.close_code: int | None = None
        self.socket_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            self.close_code = frame.get_close_code()
            transport.send_close(self.close_code)
            transport.disconnect()
            return
        payload = frame.get_payload_as_bytes()
        if MESSAGE_TAG in payload:
            self._message(payload)
        elif not self.socket_id.done() and SOCKET_ID_TAG in payload:
            self.socket_id.set_result(json.loads(payload)["data"])

    def _message(self, payload: bytes) -> None:
        now = time.perf_counter_ns()
        start = payload.find(CONTENT_TAG) + len(CONTENT_TAG)
        sent = int(payload[start : start + STAMP_DIGITS])
        number = int(payload[start + STAMP_DIGITS + 1 : start + STAMP_DIGITS + 1 + NUMBER_DIGITS])
        self.received[number] = min(self.received[number] + 1, 255)
        self.frames.numbers.append(number)
        self.frames.arrived_ns.append(now)
        self.frames.latency_ns.append(now - sent)


# ---------------------------------------------------------------- redis


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self._proc = subprocess.Popen(
            [*argv, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def accepting(self, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.005)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
            self._proc = None


# ---------------------------------------------------------------- the run


async def open_blip_sockets(
    node: Server, count: int, frames: Frames, capacity: int
) -> list[tuple[WSTransport, BlipListener]]:
    gate = asyncio.Semaphore(100)

    async def open_one() -> tuple[WSTransport, BlipListener]:
        async with gate:
            transport, listener = await ws_connect(
                lambda: BlipListener(frames, capacity), node.ws_url, max_frame_size=1 << 24
            )
            transport.send(WSMsgType.TEXT, b"getId")
            await asyncio.wait_for(listener.socket_id, 30)
            return transport, listener

    return await asyncio.gather(*(open_one() for _ in range(count)))


class Poster:
    """Posts at ``rate`` per second, round-robin to the nodes, noting each answer."""

    def __init__(self, clients: list[HttpClient], conversation_id: str, rate: float) -> None:
        self.clients = clients
        self.conversation_id = conversation_id
        self.rate = rate
        self.sent_ns: dict[int, int] = {}
        self.acknowledged: set[int] = set()
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._next = 0

    async def run_for(self, seconds: float) -> None:
        """Post ``seconds * rate`` messages on schedule (late ones at once: a generator
        starved of CPU still offers the whole load)."""
        started, first = time.perf_counter(), self._next
        last = first + int(seconds * self.rate)
        while self._next < last:
            due = min(first + int((time.perf_counter() - started) * self.rate) + 1, last)
            while self._next < due:
                task = asyncio.create_task(self._post(self._next))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self._next += 1
            await asyncio.sleep(0.002)

    async def _post(self, number: int) -> None:
        stamp = time.perf_counter_ns()
        self.sent_ns[number] = stamp
        content = f"{stamp:0{STAMP_DIGITS}d} {number:0{NUMBER_DIGITS}d} {PADDING}"
        body = [
            {
                "churchId": CHURCH_ID,
                "conversationId": self.conversation_id,
                "content": content,
                "displayName": "bench",
            }
        ]
        try:
            await self.clients[number % len(self.clients)].post("/messaging/messages/send", body)
        except (HttpError, OSError, asyncio.IncompleteReadError):
            self.failed += 1
            return
        self.acknowledged.add(number)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))


async def health_watch(nodes: list[Server], seen: Counter[str], stop: asyncio.Event) -> None:
    """Poll every node's /health like a load balancer, counting the status codes."""
    clients = [HttpClient("127.0.0.1", node.http_port) for node in nodes]
    try:
        while not stop.is_set():
            for client in clients:
                with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                    status, _ = await client.exchange("GET", "/health", b"")
                    seen[str(status)] += 1
            await asyncio.sleep(0.1)
    finally:
        for client in clients:
            client.close()


async def nodes_report_up(nodes: list[Server], timeout_s: float = 60) -> None:
    clients = [HttpClient("127.0.0.1", node.http_port) for node in nodes]
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            reports = [await client.get("/health") for client in clients]
            if all(r["delivery"]["redis"] == "up" for r in reports):
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the nodes never reported redis up again")
    finally:
        for client in clients:
            client.close()


async def settle(
    listeners: list[BlipListener], acknowledged: set[int], stall_s: float = 20
) -> None:
    """Wait until every open socket holds every acknowledged message (or nothing moves)."""

    def missing() -> int:
        return sum(
            sum(1 for n in acknowledged if not listener.received[n])
            for listener in listeners
            if listener.close_code is None
        )

    last, since = missing(), time.monotonic()
    while last and time.monotonic() - since < stall_s:
        await asyncio.sleep(0.5)
        now = missing()
        if now != last:
            last, since = now, time.monotonic()


def count_losses(run: BlipRun, listeners: list[BlipListener], acknowledged: set[int]) -> None:
    for listener in listeners:
        missing = sum(1 for n in acknowledged if not listener.received[n])
        run.duplicates += sum(1 for n in acknowledged if listener.received[n] > 1)
        if listener.close_code is None:
            run.frames_lost += missing
        elif listener.close_code == 1012:
            run.closed_1012 += 1
            run.missed_on_closed += missing
        else:
            run.closed_other += 1
    run.frames_expected = len(acknowledged) * len(listeners)


def timings(run: BlipRun, frames: Frames, sent_ns: dict[int, int], marks: list[int]) -> None:
    """``marks``: warm-up over, Redis killed, Redis back, both nodes report it up."""
    warm, killed, back, up = marks
    phases: dict[str, list[int]] = {"before": [], "during": [], "after": []}
    last_of_old = back
    for number, arrived, latency in zip(
        frames.numbers, frames.arrived_ns, frames.latency_ns, strict=True
    ):
        sent = sent_ns[number]
        phase = "before" if sent < killed else "during" if sent < back else "after"
        if sent >= warm:
            phases[phase].append(latency)
        if sent < back:
            last_of_old = max(last_of_old, arrived)
    for phase, values in phases.items():
        values.sort()
        setattr(run, f"p50_{phase}_ms", percentile(values, 0.5))
        setattr(run, f"p99_{phase}_ms", percentile(values, 0.99))
    run.recovery_s = (last_of_old - back) / 1e9
    run.nodes_up_s = (up - back) / 1e9
    run.outage_s = (back - killed) / 1e9


async def blip(
    nodes: list[Server], redis: PrivateRedis, run: BlipRun, args: argparse.Namespace
) -> None:
    for node in nodes:
        await wait_node_healthy(node)
    clients = [HttpClient("127.0.0.1", node.http_port) for node in nodes]
    frames, capacity = (
        Frames(),
        int(args.rate * (args.warmup + args.before + args.outage + args.after + 30)),
    )
    sockets: list[tuple[WSTransport, BlipListener]] = []
    stop_watch = asyncio.Event()
    health: Counter[str] = Counter()
    try:
        path = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/{SERVICE_ID}"
        conversation_id = (await clients[0].get(path))["id"]
        ids = []
        for node in nodes:
            opened = await open_blip_sockets(node, args.sockets, frames, capacity)
            sockets += opened
            ids.append([listener.socket_id.result() for _, listener in opened])
        await join_through_next_node(clients, conversation_id, ids, 250)
        poster = Poster(clients, conversation_id, args.rate)
        watch = asyncio.create_task(health_watch(nodes, health, stop_watch))
        await poster.run_for(args.warmup)
        warm = time.perf_counter_ns()
        await poster.run_for(args.before)
        killed = time.perf_counter_ns()
        redis.kill()
        await poster.run_for(args.outage)
        redis.start()
        later = asyncio.create_task(poster.run_for(args.after))
        await redis.accepting()
        back = time.perf_counter_ns()
        await nodes_report_up(nodes)
        up = time.perf_counter_ns()
        await later
        await poster.drain()
        stop_watch.set()
        await watch
        listeners = [listener for _, listener in sockets]
        await settle(listeners, poster.acknowledged)
        run.posted, run.acknowledged = len(poster.sent_ns), len(poster.acknowledged)
        count_losses(run, listeners, poster.acknowledged)
        timings(run, frames, poster.sent_ns, [warm, killed, back, up])
        run.health_codes = dict(health)
        reports = [await client.get("/health") for client in clients]
        run.replayed = sum(r["delivery"].get("framesReplayed", 0) for r in reports)
    finally:
        for client in clients:
            client.close()
        for transport, _ in sockets:
            transport.disconnect(graceful=False)


def run_blip(args: argparse.Namespace) -> BlipRun:
    run = BlipRun(args.sockets, args.rate)
    database_url, name = create_database()
    prefix = "steeple-faults-" + secrets.token_hex(3)
    redis = PrivateRedis(free_port())
    redis.start()
    migrate(database_url)
    with tempfile.TemporaryDirectory(prefix="faults-bench-") as tmp:
        nodes: list[Server] = []
        try:
            asyncio.run(redis.accepting())
            nodes = [
                start_node(database_url, redis.url, prefix, Path(tmp), f"node{i}") for i in range(2)
            ]
            uvloop.run(asyncio.wait_for(blip(nodes, redis, run, args), 600))
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            print(f"  run failed: {run.error}", file=sys.stderr)
            for node in nodes:
                print(node.log_tail(20), file=sys.stderr)
        finally:
            for node in nodes:
                stop_server(node)
            redis.kill()
            drop_database(name)
    return run


# ---------------------------------------------------------------- report


def table(runs: list[BlipRun]) -> str:
    lines = [
        f"{'run':>3} {'acked':>6} {'lost':>5} {'dups':>5} {'1012':>5} {'outage s':>8} "
        f"{'nodes up s':>10} {'recovery s':>10} {'p99 before':>10} {'p99 during':>10} "
        f"{'p99 after':>9} {'p50 after':>9} {'replayed':>8} health"
    ]
    for index, r in enumerate(runs, 1):
        if r.error:
            lines.append(f"{index:>3} error: {r.error}")
            continue
        lines.append(
            f"{index:>3} {r.acknowledged:>6} {r.frames_lost:>5} {r.duplicates:>5} "
            f"{r.closed_1012:>5} {r.outage_s:>8.2f} {r.nodes_up_s:>10.2f} {r.recovery_s:>10.2f} "
            f"{r.p99_before_ms:>10.1f} {r.p99_during_ms:>10.1f} {r.p99_after_ms:>9.1f} "
            f"{r.p50_after_ms:>9.1f} {r.replayed:>8} {r.health_codes}"
        )
    return "\n".join(lines)


def write_results(runs: list[BlipRun], args: argparse.Namespace) -> Path:
    return write_result_file("faults", {"args": vars(args), "runs": [asdict(r) for r in runs]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sockets", type=int, default=500, help="sockets per node")
    parser.add_argument("--rate", type=float, default=200, help="posts per second")
    parser.add_argument("--warmup", type=float, default=3, help="seconds not measured")
    parser.add_argument("--before", type=float, default=4, help="seconds before the blip")
    parser.add_argument("--outage", type=float, default=1.5, help="seconds Redis is away")
    parser.add_argument("--after", type=float, default=8, help="seconds after the restart")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    raise_fd_limit(args.sockets * 4 + 1024)
    runs = []
    for index in range(args.runs):
        print(f"run {index + 1}/{args.runs} ...", file=sys.stderr, flush=True)
        runs.append(run_blip(args))
    print(table(runs))
    print(f"\nresults: {write_results(runs, args)}")
    failed = any(r.error or r.frames_lost for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
