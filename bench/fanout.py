"""Fan-out benchmark: Steeple vs a plain Node ``ws`` server (bench/baseline).

For each target and each socket count N, the server runs as a subprocess pinned to one
core while this process (the load generator: picows on uvloop) is pinned to the other.
The generator opens N sockets, learns their socketIds with ``getId``, joins them all to
one public live room, measures the server's RSS per idle socket, then posts M messages
through ``POST /messaging/messages/send`` with a few requests in flight and counts the
``message`` frames delivered to all sockets. Each message's content starts with its
send time (``perf_counter_ns``), so a receiver knows the send-to-receive latency.

    python bench/fanout.py --sockets 1000,5000

Prints a comparison table and writes bench/results/fanout-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import probe_summary
import psutil  # type: ignore[import-untyped,unused-ignore]
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from ports import free_port
from proc_cpu import CpuSnapshot, CpuUse, tree_cpu_s

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_DIR = BENCH_DIR / "baseline"
RESULTS_DIR = BENCH_DIR / "results"
STEEPLE_BIN = Path(sys.executable).parent / "steeple"

CHURCH_ID = "benchChurch"
JWT_SECRET = "bench-secret-0123456789abcdef0123456789"  # 32+ bytes: no weak-key warning
SERVICE_ID = "benchSvc001"  # a streamingLive contentId: at most 11 characters
CONTENT_SIZE = 200
MAX_LATENCY_SOCKETS = 1000  # latency is sampled on at most this many sockets
AUTO_FRAMES = 1_000_000  # default messages per run: about this many frames in all
IDLE_PCT = 20.0  # CPU use by other processes (% of one core) that marks a run as noisy

MESSAGE_TAG = b'"action":"message"'
SOCKET_ID_TAG = b'"action":"socketId"'
CONTENT_TAG = b'"content":"'
STAMP_DIGITS = 20

LIMIT_VARIABLES = [
    f"LIMIT_{action}_{who}"
    for action, last in (("POST", "ROOM"), ("JOIN", "ROOM"), ("CREATE", "CHURCH"))
    for who in ("PERSON", "ADDRESS", last)
] + ["LIMIT_REACT_PERSON", "LIMIT_REACT_ROOM", "LIMIT_RENAME_PERSON", "LIMIT_RENAME_ADDRESS"]
BENCH_LIMITS = {**dict.fromkeys(LIMIT_VARIABLES, "1000000,1000000"), "ANONYMOUS_JOIN_BATCH": "500"}
"""The load generator is one address standing for thousands of viewers: every rate
limit stays on (each post and join still pays for its check) but too high to refuse.
``--no-limits`` turns them off instead, to see what the checks cost."""


# ---------------------------------------------------------------- receive side


class Counters:
    """Frames seen by all sockets of one run (shared by every listener)."""

    def __init__(self) -> None:
        self.closed = 0  # sockets lost before the end of the run (never reset)
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.last_message_ns = 0
        self.other = 0
        self.other_bytes = 0
        self.latencies_ns = array("q")

    def activity(self) -> tuple[int, int]:
        return self.messages, self.other


class BenchListener(WSListener):
    """Counts ``message`` frames; sampled sockets also record latency."""

    def __init__(self, counters: Counters, sampled: bool) -> None:
        self.counters = counters
        self.sampled = sampled
        self.socket_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        payload = frame.get_payload_as_bytes()
        if frame.fin and frame.msg_type == WSMsgType.TEXT and MESSAGE_TAG in payload:
            self._on_message(payload)
        elif not self.socket_id.done() and SOCKET_ID_TAG in payload:
            self.socket_id.set_result(orjson.loads(payload)["data"])
        else:
            self.counters.other += 1
            self.counters.other_bytes += len(payload)

    def _on_message(self, payload: bytes) -> None:
        now = time.perf_counter_ns()
        counters = self.counters
        counters.messages += 1
        counters.last_message_ns = now
        if self.sampled:
            start = payload.find(CONTENT_TAG) + len(CONTENT_TAG)
            counters.latencies_ns.append(now - int(payload[start : start + STAMP_DIGITS]))

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.counters.closed += 1
        if not self.socket_id.done():
            self.socket_id.set_exception(ConnectionError("socket closed before getId reply"))


# ---------------------------------------------------------------- HTTP client


class HttpError(Exception):
    pass


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpClient:
    """A minimal HTTP/1.1 keep-alive JSON client.

    httpx spends ~2 ms of CPU per request; on the generator's core that would throttle
    the sender and steal time from reading frames. This costs ~0.1 ms.
    """

    def __init__(
        self, host: str, port: int, local_host: str | None = None, headers: str = ""
    ) -> None:
        self.host, self.port = host, port
        self.local_addr = (local_host, 0) if local_host else None
        self.headers = headers  # extra header lines, each ending in CRLF
        self.idle: list[Connection] = []
        self.statuses: dict[int, int] = {}  # answers seen, by status

    async def get(self, path: str) -> Any:
        return await self.request("GET", path, b"")

    async def post(self, path: str, body: object) -> Any:
        return await self.request("POST", path, orjson.dumps(body))

    async def request(self, method: str, path: str, body: bytes) -> Any:
        """Send one request; returns the decoded JSON body of a 2xx answer."""
        status, data = await self.exchange(method, path, body)
        if not 200 <= status < 300:
            raise HttpError(f"{method} {path} -> {status}: {data[:300]!r}")
        return orjson.loads(data) if data else None

    async def exchange(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        while self.idle:  # a kept-alive connection the server may have closed meanwhile
            conn = self.idle.pop()
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                return await self._exchange(conn, method, path, body)
            conn[1].close()
        conn = await asyncio.open_connection(self.host, self.port, local_addr=self.local_addr)
        return await self._exchange(conn, method, path, body)

    async def _exchange(
        self, conn: Connection, method: str, path: str, body: bytes
    ) -> tuple[int, bytes]:
        reader, writer = conn
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{self.headers}\r\n"
        )
        writer.write(head.encode() + body)
        status, headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
        data = await read_body(reader, headers)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if headers.get("connection", "").lower() == "close" or reader.at_eof():
            writer.close()
        else:
            self.idle.append(conn)
        return status, data

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.split(":", 1) for line in lines if ":" in line)
    return int(status_line.split()[1]), {k.strip().lower(): v.strip() for k, v in fields}


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size + 2))
        await reader.readuntil(b"\r\n")
        return b"".join(part[:-2] for part in parts)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()


# ---------------------------------------------------------------- server process


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    http_port: int
    ws_port: int
    log_path: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/"

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def rss(self) -> int:
        """Resident memory of the server and any children it forked."""
        return sum(p.memory_info().rss for p in self.processes())

    def cpu_s(self) -> float:
        """utime + stime of the server's process tree, from /proc/<pid>/stat."""
        return tree_cpu_s(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL the server's process group (a graceful close of N sockets costs O(N^2))."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def server_command(
    target: str, http_port: int, ws_port: int, tmp: Path, probe: bool = False
) -> list[str]:
    if target == "baseline":
        return ["node", str(BASELINE_DIR / "server.js")]
    serve = [sys.executable, str(BENCH_DIR / "probe_serve.py")] if probe else [str(STEEPLE_BIN)]
    return [
        *serve, "serve", "--port", str(http_port), "--socket-port", str(ws_port),
        "--database-url", f"sqlite+aiosqlite:///{tmp}/bench.db", "--jwt-secret", JWT_SECRET,
    ]  # fmt: skip


def limit_env(on: bool) -> dict[str, str]:
    """Every limit on (too high to refuse) or off; joins in batches of 500 either way."""
    off = {**dict.fromkeys(LIMIT_VARIABLES, "0"), "ANONYMOUS_JOIN_BATCH": "500"}
    return BENCH_LIMITS if on else off


def start_server(
    target: str, core: int | None, tmp: Path, probe: bool = False,
    extra_env: dict[str, str] | None = None, limits: bool = True,
) -> Server:  # fmt: skip
    http_port, ws_port = free_port(), free_port()
    env = {**os.environ, "SERVER_PORT": str(http_port), "SOCKET_PORT": str(ws_port),
           "STEEPLE_PROBE_OUT": str(tmp / "probe.json"),
           "STEEPLE_PROBE_DB": str(tmp / "bench.db"),
           # every bench socket comes from 127.0.0.1: no per-address socket cap
           "MAX_SOCKETS_PER_ADDRESS": os.environ.get("MAX_SOCKETS_PER_ADDRESS", "0"),
           **limit_env(limits),
           **(extra_env or {})}  # fmt: skip
    command = server_command(target, http_port, ws_port, tmp, probe)
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    log_path = tmp / f"{target}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    return Server(target, proc, http_port, ws_port, log_path)


def stop_server(server: Server) -> None:
    server.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.proc.wait(timeout=10)


def ensure_baseline_installed() -> None:
    if (BASELINE_DIR / "node_modules" / "ws").is_dir():
        return
    npm = shutil.which("npm") or "npm"
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=BASELINE_DIR, check=True, timeout=300
    )


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    target: str
    sockets: int
    messages: int
    expected_frames: int = 0
    delivered_frames: int = 0
    frames_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    latency_samples: int = 0
    closed_sockets: int = 0
    rss_before: int = 0
    rss_after: int = 0
    rss_per_socket: float = 0.0
    connect_s: float = 0.0
    join_s: float = 0.0
    send_s: float = 0.0
    server_cpu_pct: float = 0.0
    server_cpu_s: float = 0.0
    cpu_per_frame_us: float = 0.0
    generator_cpu_pct: float = 0.0
    generator_saturated: bool = False
    background_cpu_pct: float = 0.0
    join_frames: int = 0
    join_bytes: int = 0
    paced: list[PacedResult] = field(default_factory=list)
    error: str | None = None


@dataclass
class PacedResult:
    """One steady-rate phase: messages at ``rate``/s for ``seconds``, open loop."""

    rate: float
    seconds: float
    messages: int
    expected_frames: int = 0
    delivered_frames: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    max_ms: float = 0.0
    latency_samples: int = 0
    server_cpu_s: float = 0.0
    cpu_per_frame_us: float = 0.0
    server_cpu_pct: float = 0.0
    generator_cpu_pct: float = 0.0
    generator_saturated: bool = False
    background_cpu_pct: float = 0.0
    probe: dict[str, Any] = field(default_factory=dict)


@dataclass
class Options:
    messages: int
    concurrency: int
    join_batch: int
    connect_concurrency: int
    stall_s: float
    run_timeout_s: float
    server_start_s: float
    wait_idle_s: float
    server_core: int | None
    paced_rates: list[float] = field(default_factory=list)
    paced_seconds: float = 10.0
    probe: bool = False
    limits: bool = True
    padding: str = field(init=False)

    def __post_init__(self) -> None:
        self.padding = "x" * (CONTENT_SIZE - STAMP_DIGITS - 1)


async def wait_healthy(server: Server, client: HttpClient, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            status, _ = await asyncio.wait_for(client.exchange("GET", "/health", b""), 2)
            if status == 200:
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{server.name} did not answer GET /health within {timeout_s:.0f}s")


async def open_sockets(
    url: str, n: int, counters: Counters, parallel: int
) -> list[tuple[WSTransport, BenchListener]]:
    gate = asyncio.Semaphore(parallel)
    sample_every = max(1, n // MAX_LATENCY_SOCKETS)

    async def open_one(index: int) -> tuple[WSTransport, BenchListener]:
        sampled = index % sample_every == 0
        async with gate:
            transport, listener = await ws_connect(
                lambda: BenchListener(counters, sampled), url, max_frame_size=256 * 1024 * 1024
            )
            if not isinstance(listener, BenchListener):
                raise ConnectionError(f"websocket handshake failed: {listener!r}")
            transport.send(WSMsgType.TEXT, b"getId")
            await asyncio.wait_for(listener.socket_id, 30)
            return transport, listener

    return await asyncio.gather(*(open_one(i) for i in range(n)))


async def current_conversation(client: HttpClient) -> str:
    path = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/{SERVICE_ID}"
    conversation_id: str = (await client.get(path))["id"]
    return conversation_id


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def join_room(
    client: HttpClient, conversation_id: str, socket_ids: list[str], batch: int
) -> None:
    for index, group in enumerate(chunks(socket_ids, batch)):
        body = [
            {"churchId": CHURCH_ID, "conversationId": conversation_id, "socketId": sid,
             "displayName": f"viewer{index * batch + i}"}
            for i, sid in enumerate(group)
        ]  # fmt: skip
        await client.post("/messaging/connections", body)


async def wait_quiet(counters: Counters, quiet_s: float, cap_s: float) -> None:
    """Wait until no frame has arrived for ``quiet_s`` (at most ``cap_s``)."""
    deadline = time.monotonic() + cap_s
    seen, since = counters.activity(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        await asyncio.sleep(0.05)
        if counters.activity() != seen:
            seen, since = counters.activity(), time.monotonic()


async def wait_delivered(counters: Counters, expected: int, stall_s: float) -> None:
    """Wait for ``expected`` message frames, or until none arrive for ``stall_s``."""
    seen, since = counters.messages, time.monotonic()
    while counters.messages < expected and time.monotonic() - since < stall_s:
        await asyncio.sleep(0.01)
        if counters.messages != seen:
            seen, since = counters.messages, time.monotonic()


async def post_messages(
    client: HttpClient, conversation_id: str, count: int, opts: Options
) -> None:
    todo = iter(range(count))

    async def worker() -> None:
        for _ in todo:
            await post_one(client, conversation_id, opts)

    await asyncio.gather(*(worker() for _ in range(opts.concurrency)))


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index] / 1e6


def summarize(result: RunResult, counters: Counters, started_ns: int) -> None:
    result.delivered_frames = counters.messages
    result.closed_sockets = counters.closed
    elapsed_s = max(counters.last_message_ns - started_ns, 1) / 1e9
    result.frames_per_s = counters.messages / elapsed_s if counters.messages else 0.0
    latencies = sorted(counters.latencies_ns)
    result.latency_samples = len(latencies)
    result.p50_ms = percentile(latencies, 0.50)
    result.p99_ms = percentile(latencies, 0.99)
    result.max_ms = percentile(latencies, 1.0)


async def warm_up(
    client: HttpClient, conversation_id: str, counters: Counters, n: int, opts: Options
) -> None:
    """A few messages first (connections, caches), then counters back to zero."""
    await post_messages(client, conversation_id, opts.concurrency, opts)
    await wait_delivered(counters, opts.concurrency * n, opts.stall_s)
    await wait_quiet(counters, 0.3, opts.stall_s)
    counters.reset()


async def timed_fan_out(
    server: Server, client: HttpClient, conversation_id: str, counters: Counters,
    opts: Options, result: RunResult,
) -> None:  # fmt: skip
    """Post M messages, wait for their frames; records throughput, latency and CPU use."""
    cpu_before = CpuSnapshot.take([server.proc.pid])
    started = time.perf_counter_ns()
    await post_messages(client, conversation_id, result.messages, opts)
    result.send_s = (time.perf_counter_ns() - started) / 1e9
    result.expected_frames = result.messages * result.sockets
    await wait_delivered(counters, result.expected_frames, opts.stall_s)
    wall_s = max(counters.last_message_ns - started, 1) / 1e9
    use = CpuUse.between(cpu_before, CpuSnapshot.take([server.proc.pid]), wall_s)
    result.server_cpu_pct, result.server_cpu_s = use.server_pct, use.server_s
    result.generator_cpu_pct = use.generator_pct
    result.generator_saturated = use.generator_saturated
    result.background_cpu_pct = max(result.background_cpu_pct, use.background_pct)
    summarize(result, counters, started)
    result.cpu_per_frame_us = 1e6 * use.server_s / max(result.delivered_frames, 1)


async def read_probes(server: Server) -> dict[str, Any]:
    """Ask the probed server for what it saw (SIGUSR1) and summarize it."""
    path = server.log_path.parent / "probe.json"
    path.unlink(missing_ok=True)
    os.kill(server.proc.pid, signal.SIGUSR1)
    for _ in range(100):
        if path.exists():
            figures = probe_summary.summarize(path)
            print("\n".join(probe_summary.lines(figures)), file=sys.stderr)
            keep_profile(path.with_name(path.name + ".prof"))
            return figures
        await asyncio.sleep(0.05)
    return {"error": "no probe output"}


def keep_profile(profile: Path) -> None:
    """A cProfile of the phase (STEEPLE_PROBE_PROFILE=1) outlives the run's temp dir."""
    if profile.exists():
        RESULTS_DIR.mkdir(exist_ok=True)
        kept = RESULTS_DIR / f"probe-{time.strftime('%Y%m%d-%H%M%S')}.prof"
        shutil.copyfile(profile, kept)
        print(f"    profile: {kept} (python -m pstats)", file=sys.stderr)


async def post_one(client: HttpClient, conversation_id: str, opts: Options) -> None:
    content = f"{time.perf_counter_ns():0{STAMP_DIGITS}d} {opts.padding}"
    body = [{"churchId": CHURCH_ID, "conversationId": conversation_id,
             "content": content, "displayName": "bench"}]  # fmt: skip
    await client.post("/messaging/messages/send", body)


async def send_paced(client: HttpClient, conversation_id: str, phase: PacedResult,
                     opts: Options) -> None:  # fmt: skip
    """Open loop: message i leaves at start + i/rate whether or not earlier ones returned."""
    loop = asyncio.get_running_loop()
    start, sends = loop.time(), []
    for index in range(phase.messages):
        if (delay := start + index / phase.rate - loop.time()) > 0:
            await asyncio.sleep(delay)
        sends.append(asyncio.create_task(post_one(client, conversation_id, opts)))
    await asyncio.gather(*sends)


async def paced_phase(
    server: Server, client: HttpClient, conversation_id: str, counters: Counters,
    opts: Options, n: int, rate: float,
) -> PacedResult:  # fmt: skip
    """Steady ``rate`` messages/s: the send-to-receive tail, not the throughput."""
    phase = PacedResult(rate, opts.paced_seconds, max(1, round(rate * opts.paced_seconds)))
    phase.expected_frames = phase.messages * n
    await wait_quiet(counters, 0.3, opts.stall_s)
    counters.reset()
    if opts.probe and server.name == "steeple":
        os.kill(server.proc.pid, signal.SIGUSR2)  # probes: start afresh
    before = CpuSnapshot.take([server.proc.pid])
    started = time.perf_counter_ns()
    await send_paced(client, conversation_id, phase, opts)
    await wait_delivered(counters, phase.expected_frames, opts.stall_s)
    if opts.probe and server.name == "steeple":
        phase.probe = await read_probes(server)
    wall_s = max(counters.last_message_ns - started, 1) / 1e9
    use = CpuUse.between(before, CpuSnapshot.take([server.proc.pid]), wall_s)
    latencies = sorted(counters.latencies_ns)
    phase.delivered_frames, phase.latency_samples = counters.messages, len(latencies)
    phase.p50_ms, phase.p99_ms = percentile(latencies, 0.5), percentile(latencies, 0.99)
    phase.p999_ms, phase.max_ms = percentile(latencies, 0.999), percentile(latencies, 1.0)
    phase.server_cpu_s, phase.server_cpu_pct = use.server_s, use.server_pct
    phase.cpu_per_frame_us = 1e6 * use.server_s / max(phase.delivered_frames, 1)
    phase.generator_cpu_pct = use.generator_pct
    phase.generator_saturated = use.generator_saturated
    phase.background_cpu_pct = use.background_pct
    return phase


async def connect_and_join(
    server: Server, client: HttpClient, conversation_id: str, counters: Counters,
    opts: Options, result: RunResult,
) -> list[tuple[WSTransport, BenchListener]]:  # fmt: skip
    """Open N sockets, learn their ids, join them to the room; records connect/join/RSS."""
    n = result.sockets
    await asyncio.sleep(0.5)
    result.rss_before = server.rss()
    clock = time.perf_counter()
    sockets = await open_sockets(server.ws_url, n, counters, opts.connect_concurrency)
    result.connect_s = time.perf_counter() - clock
    clock = time.perf_counter()
    socket_ids = [listener.socket_id.result() for _, listener in sockets]
    await join_room(client, conversation_id, socket_ids, opts.join_batch)
    await wait_quiet(counters, 1.0, opts.run_timeout_s)  # attendance frames of the joins
    result.join_s = time.perf_counter() - clock
    result.join_frames, result.join_bytes = counters.other, counters.other_bytes
    result.rss_after = server.rss()
    result.rss_per_socket = (result.rss_after - result.rss_before) / n
    return sockets


async def measure(server: Server, opts: Options, result: RunResult) -> None:
    counters = Counters()
    client = HttpClient("127.0.0.1", server.http_port)
    sockets: list[tuple[WSTransport, BenchListener]] = []
    try:
        await wait_healthy(server, client, opts.server_start_s)
        conversation_id = await current_conversation(client)
        sockets = await connect_and_join(server, client, conversation_id, counters, opts, result)
        await warm_up(client, conversation_id, counters, result.sockets, opts)
        await timed_fan_out(server, client, conversation_id, counters, opts, result)
        for rate in opts.paced_rates:
            print(f"  paced {rate:g}/s for {opts.paced_seconds:g} s ...", file=sys.stderr)
            result.paced.append(await paced_phase(
                server, client, conversation_id, counters, opts, result.sockets, rate))  # fmt: skip
    finally:
        server.kill()  # before our sockets close: no per-close attendance storm
        client.close()
        for transport, _ in sockets:
            transport.disconnect(graceful=False)


def machine_load(wait_s: float) -> float:
    """Machine CPU use (percent of one core); waits up to ``wait_s`` for it to be quiet."""
    deadline = time.monotonic() + wait_s
    cores = psutil.cpu_count() or 1
    while (busy := cores * psutil.cpu_percent(interval=1.0)) > IDLE_PCT:
        if time.monotonic() > deadline:
            break
    return float(busy)


def run_one(target: str, n: int, opts: Options) -> RunResult:
    result = RunResult(target, n, opts.messages or max(200, AUTO_FRAMES // n))
    result.background_cpu_pct = machine_load(opts.wait_idle_s)
    with tempfile.TemporaryDirectory(prefix=f"fanout-{target}-") as tmp:
        server = start_server(target, opts.server_core, Path(tmp), opts.probe, limits=opts.limits)
        try:
            uvloop.run(asyncio.wait_for(measure(server, opts, result), opts.run_timeout_s))
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}".strip()
            traceback.print_exc(limit=-3)
            print(f"  {target} N={n} failed: {result.error}\n{server.log_tail()}", file=sys.stderr)
        finally:
            stop_server(server)
    return result


# ---------------------------------------------------------------- report


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if numerator and denominator else "-"


COMPARED = {"frames_per_s", "p50_ms", "p99_ms", "rss_per_socket", "cpu_per_frame_us"}
METRICS: list[tuple[str, str, Callable[[float], str]]] = [
    ("frames/s", "frames_per_s", lambda v: f"{v:,.0f}"),
    ("CPU us/frame", "cpu_per_frame_us", lambda v: f"{v:.2f}"),
    ("p50 latency ms", "p50_ms", lambda v: f"{v:.1f}"),
    ("p99 latency ms", "p99_ms", lambda v: f"{v:.1f}"),
    ("RSS/socket KiB", "rss_per_socket", lambda v: f"{v / 1024:.1f}"),
    ("server CPU %", "server_cpu_pct", lambda v: f"{v:.0f}"),
    ("generator CPU %", "generator_cpu_pct", lambda v: f"{v:.0f}{'*' if v > 90 else ''}"),
    ("others' CPU %", "background_cpu_pct", lambda v: f"{v:.0f}"),
]
PACED_METRICS: list[tuple[str, str, Callable[[float], str]]] = [
    ("p50 ms", "p50_ms", lambda v: f"{v:.1f}"),
    ("p99 ms", "p99_ms", lambda v: f"{v:.1f}"),
    ("p99.9 ms", "p999_ms", lambda v: f"{v:.1f}"),
    ("max ms", "max_ms", lambda v: f"{v:.1f}"),
    ("CPU us/frame", "cpu_per_frame_us", lambda v: f"{v:.2f}"),
    ("server CPU %", "server_cpu_pct", lambda v: f"{v:.0f}"),
    ("generator CPU %", "generator_cpu_pct", lambda v: f"{v:.0f}{'*' if v > 90 else ''}"),
    ("others' CPU %", "background_cpu_pct", lambda v: f"{v:.0f}"),
]
SATURATION_LEGEND = "* generator saturated (>90% of its core): it, not the server, set the pace"


def cell(result: RunResult | None, key: str, fmt: Callable[[float], str]) -> str:
    if result is None:
        return "-"
    if result.error:
        return "error"
    return fmt(float(getattr(result, key)))


def metric_line(
    n: int, metric: tuple[str, str, Callable[[float], str]], runs: list[RunResult | None]
) -> str:
    label, key, fmt = metric
    line = f"{n:>6}  {label:<16}" + "".join(f"{cell(r, key, fmt):>14}" for r in runs)
    complete = [float(getattr(r, key)) for r in runs if r and not r.error]
    if key in COMPARED and len(runs) == len(complete) == 2:
        line += f"{ratio(*complete):>18}"
    return line


def table(results: list[RunResult], targets: list[str]) -> str:
    by_key = {(r.target, r.sockets): r for r in results}
    header = f"{'N':>6}  {'metric':<16}" + "".join(f"{t:>14}" for t in targets)
    lines = [header + (f"{'/'.join(targets):>18}" if len(targets) == 2 else "")]
    for n in sorted({r.sockets for r in results}):
        row_results = [by_key.get((t, n)) for t in targets]
        lines.extend(metric_line(n, metric, row_results) for metric in METRICS)
        delivered = "  ".join(delivery(r) for r in row_results if r)
        lines.append(f"{'':>6}  {'delivered':<16}{delivered}")
    lines.extend(f"error: {r.target} N={r.sockets}: {r.error}" for r in results if r.error)
    lines.extend(paced_table(results, targets))
    lines.append(SATURATION_LEGEND)
    if loaded(results):
        lines.append(
            f"note: others' CPU % > {IDLE_PCT:.0f} (other processes were busy): figures "
            "taken on a loaded machine"
        )
    return "\n".join(lines)


def loaded(results: list[RunResult]) -> bool:
    phases = [p.background_cpu_pct for r in results for p in r.paced]
    return any(v > IDLE_PCT for v in [*phases, *(r.background_cpu_pct for r in results)])


def paced_table(results: list[RunResult], targets: list[str]) -> list[str]:
    """Steady-rate phases: one block per (N, rate), the targets side by side."""
    phases = {(r.target, r.sockets, p.rate): p for r in results for p in r.paced}
    if not phases:
        return []
    lines = ["", f"steady rate {'N':>6} {'msg/s':>6}  {'metric':<16}"
             + "".join(f"{t:>14}" for t in targets)]  # fmt: skip
    for n, rate in sorted({(k[1], k[2]) for k in phases}):
        row = [phases.get((t, n, rate)) for t in targets]
        for label, key, fmt in PACED_METRICS:
            cells = "".join(f"{fmt(float(getattr(p, key))) if p else '-':>14}" for p in row)
            lines.append(f"{'':11} {n:>6} {rate:>6g}  {label:<16}{cells}")
        done = "  ".join(f"{p.delivered_frames:,}/{p.expected_frames:,}" for p in row if p)
        lines.append(f"{'':11} {n:>6} {rate:>6g}  {'delivered':<16}{done}")
    return lines


def delivery(result: RunResult) -> str:
    text = f"{result.target} {result.delivered_frames:,}/{result.expected_frames:,}"
    return text + (f" ({result.closed_sockets} sockets closed)" if result.closed_sockets else "")


def write_results(results: list[RunResult], args: argparse.Namespace) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"fanout-{stamp}.json"
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10)
    document: dict[str, Any] = {
        "timestamp": stamp,
        "args": vars(args),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "node": node.stdout.strip(), "platform": platform.platform()},
        "runs": [asdict(r) for r in results],
        "loaded_machine": loaded(results),
    }  # fmt: skip
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sockets", default="1000,5000", help="comma-separated socket counts")
    parser.add_argument("--targets", default="steeple,baseline", help="steeple and/or baseline")
    parser.add_argument(
        "--messages",
        type=int,
        default=0,
        help=f"messages per run (default: {AUTO_FRAMES:,} frames / N, min 200)",
    )
    parser.add_argument("--concurrency", type=int, default=12, help="sends in flight")
    parser.add_argument("--join-batch", type=int, default=500, help="connections per POST")
    parser.add_argument("--connect-concurrency", type=int, default=200)
    parser.add_argument("--stall", type=float, default=15.0, help="give up after s w/o frames")
    parser.add_argument("--run-timeout", type=float, default=300.0, help="cap per run, s")
    parser.add_argument("--server-start-timeout", type=float, default=30.0)
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=60.0,
        help="before each run, wait up to this many s for an idle machine",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument(
        "--paced-rates", default="10,50", help="steady-rate phases, messages/s ('' for none)"
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="length of each")
    parser.add_argument(
        "--probe", action="store_true",
        help="run Steeple under bench/probe_serve.py; print its probes per steady phase",
    )  # fmt: skip
    parser.add_argument(
        "--no-limits", action="store_true", help="rate limits off (default: on, never refusing)"
    )
    return parser.parse_args(argv)


def raise_fd_limit(needed: int) -> None:
    """Raise the descriptor limit (the server inherits it); past the hard limit too where
    that is allowed (root: a 20,000-socket run needs more than the usual 20,000)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            soft, hard = needed, needed
    wanted = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        print(f"warning: fd limit {wanted} < {needed}; large runs may fail", file=sys.stderr)


def pin_generator(no_pin: bool) -> int | None:
    """Pin this process to the first core; returns the core left for the server."""
    available = sorted(os.sched_getaffinity(0))
    if no_pin or len(available) < 2:
        return None
    os.sched_setaffinity(0, {available[0]})
    return available[1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sockets.split(",") if s]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if unknown := set(targets) - {"steeple", "baseline"}:
        sys.exit(f"unknown target(s): {', '.join(sorted(unknown))}")
    raise_fd_limit(max(sizes) * 2 + 1024)
    server_core = pin_generator(args.no_pin)
    opts = Options(args.messages, args.concurrency, args.join_batch, args.connect_concurrency,
                   args.stall, args.run_timeout, args.server_start_timeout, args.wait_idle,
                   server_core, [float(r) for r in args.paced_rates.split(",") if r],
                   args.paced_seconds, args.probe, limits=not args.no_limits)  # fmt: skip
    if "baseline" in targets:
        ensure_baseline_installed()
    results: list[RunResult] = []
    for n in sizes:
        for target in targets:
            print(f"running {target} with {n} sockets ...", file=sys.stderr, flush=True)
            results.append(run_one(target, n, opts))
    print(table(results, targets))
    print(f"\nresults: {write_results(results, args)}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
