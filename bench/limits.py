"""Rate-limit benchmark: what a check costs, and what a flood costs the node.

Two parts, each repeated ``--runs`` times (min / median / max printed):

* **check**: the cost of the Redis-backed check on the post path. (1) ``take`` of a
  post's two buckets (caller and room) in the real Redis, sequentially, against the
  in-memory backend; (2) posts per second through ``POST /messaging/messages/send``
  on a ``steeple serve`` subprocess in redis mode, limits on (set high enough that
  nothing is refused, so every post pays for the script) against limits off.
* **flood**: a ``steeple serve`` subprocess with the default limits. A legitimate
  viewer socket sits in a live room while a poster on 127.0.0.3 posts 4 messages a
  second (stamped with their send time, so the socket measures latency). Then a
  script on 127.0.0.2 floods ``/messages/send`` at ``--flood-rate`` anonymous posts
  a second (pipelined keep-alive requests, a closed connection opened again at once).
  With the flood hold on (the default) the address is held at the listener after its
  refusals; ``--no-hold`` answers every request, to show what the hold saves.
  Reported: the latency p50/p99 without and with the flood, the flood's answered rate
  and statuses, and the server's CPU (utime+stime from ``/proc/<pid>/stat``) per second
  of each phase.

    python bench/limits.py --runs 3

Needs Redis on 127.0.0.1:6379 (``--redis-url``) for the check part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
import websockets
from fanout import limit_env
from ports import free_port
from redis.asyncio import Redis

from steeple.services.rate_buckets import Charge, LocalBuckets, RedisBuckets

STEEPLE_BIN = Path(sys.executable).parent / "steeple"
CHURCH = "benchChurch"
SERVICE = "benchSvc001"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- a server subprocess


class Server:
    """``steeple serve`` on free ports, in its own process group."""

    def __init__(self, tmp: Path, env: dict[str, str], core: int | None) -> None:
        self.http_port, self.ws_port = free_port(), free_port()
        command = [
            str(STEEPLE_BIN), "serve", "--host", "127.0.0.1",
            "--port", str(self.http_port), "--socket-port", str(self.ws_port),
            "--database-url", f"sqlite+aiosqlite:///{tmp}/bench-{self.http_port}.db",
            "--jwt-secret", "benchsecret",
        ]  # fmt: skip
        if core is not None:
            command = ["taskset", "-c", str(core), *command]
        self.log = (tmp / f"server-{self.http_port}.log").open("wb")
        self.proc = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (fields 14 and 15 of /proc/<pid>/stat)."""
        pid = self._server_pid()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def _server_pid(self) -> int:
        """The steeple process itself (taskset execs it, so the pid is the same)."""
        return self.proc.pid

    async def healthy(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError("server did not become healthy")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


async def live_room(http: httpx.AsyncClient) -> str:
    response = await http.get(f"/messaging/conversations/current/{CHURCH}/streamingLive/{SERVICE}")
    response.raise_for_status()
    return str(response.json()["id"])


def post_body(conversation_id: str, content: str) -> bytes:
    entry = {"churchId": CHURCH, "conversationId": conversation_id, "content": content}
    return orjson.dumps([{**entry, "displayName": "Bench"}])


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"min {min(values):.1f} / median {statistics.median(values):.1f} / max {max(values):.1f}"


# ---------------------------------------------------------------- part 1: the check


async def time_checks(buckets: Any, count: int) -> float:
    """Microseconds per ``take`` of a post's two buckets (never refused)."""
    charges = [
        Charge(f"post_address|bench-{secrets.token_hex(4)}", 1, 0.001, 1_000_000),
        Charge("post_room|bench-room", 1, 0.001, 1_000_000),
    ]
    started = time.perf_counter()
    for n in range(count):
        assert await buckets.take(charges, 1_800_000_000_000.0 + n) is None
    return (time.perf_counter() - started) / count * 1e6


async def script_usec(redis_url: str) -> tuple[int, float]:
    """Redis's own count of EVALSHA calls and the microseconds they took in all."""
    client = Redis.from_url(redis_url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    evalsha = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return int(evalsha["calls"]), float(evalsha["usec"])


async def posts_per_second(server: Server, count: int, in_flight: int) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        room = await live_room(http)
        queue = list(range(count))
        headers = {"content-type": "application/json"}

        async def poster() -> None:
            while queue:
                n = queue.pop()
                response = await http.post(
                    "/messaging/messages/send", content=post_body(room, str(n)), headers=headers
                )
                assert response.status_code == 200, response.text

        await asyncio.gather(*(poster() for _ in range(in_flight)))  # warm up
        queue.extend(range(count))
        started = time.perf_counter()
        await asyncio.gather(*(poster() for _ in range(in_flight)))
        return count / (time.perf_counter() - started)


async def check_part(args: argparse.Namespace, tmp: Path) -> None:
    print("== check: the cost of the Redis-backed check per post ==")
    memory: list[float] = []
    shared: list[float] = []
    inside: list[float] = []
    for _ in range(args.runs):
        memory.append(await time_checks(LocalBuckets(), args.checks))
        prefix = "steeple-bench-" + secrets.token_hex(4)
        redis_buckets = RedisBuckets(args.redis_url, prefix)
        calls, usec = await script_usec(args.redis_url)
        try:
            shared.append(await time_checks(redis_buckets, args.checks))
        finally:
            await redis_buckets.close()
        calls_after, usec_after = await script_usec(args.redis_url)
        inside.append((usec_after - usec) / max(1, calls_after - calls))
    print(f"take(caller, room), {args.checks} sequential checks, us per check:")
    print(f"  memory                    : {spread(memory)}")
    print(f"  redis, round trip         : {spread(shared)}")
    print(f"  redis, inside the server  : {spread(inside)}  (INFO commandstats, evalsha)")

    rates: dict[str, list[float]] = {"limits off": [], "limits on (redis)": []}
    for _ in range(args.runs):
        for label, on in (("limits off", False), ("limits on (redis)", True)):
            env = {
                "DELIVERY_PROVIDER": "redis",
                "REDIS_URL": args.redis_url,
                "REDIS_PREFIX": "steeple-bench-" + secrets.token_hex(4),
                **limit_env(on),  # on: too high to refuse, so every post pays for its check
            }
            server = Server(tmp, env, args.server_core)
            try:
                await server.healthy()
                rates[label].append(await posts_per_second(server, args.posts, args.in_flight))
            finally:
                server.stop()
    print(f"POST /messages/send, {args.posts} posts, {args.in_flight} in flight, posts/s:")
    for label, values in rates.items():
        print(f"  {label:18}: {spread(values)}")


# ---------------------------------------------------------------- part 2: the flood


class Viewer:
    """A legitimate socket in the room: the latency of each stamped message."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.latencies_ms: list[float] = []
        self.socket_id = ""
        self._task = asyncio.create_task(self._read())
        self._ready = asyncio.get_running_loop().create_future()

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                frame = orjson.loads(raw)
                if frame["action"] == "socketId" and not self._ready.done():
                    self._ready.set_result(frame["data"])
                elif frame["action"] == "message":
                    content = frame["data"]["content"]
                    if content.startswith("stamp:"):
                        sent = int(content.split(":")[1])
                        self.latencies_ms.append((time.perf_counter_ns() - sent) / 1e6)

    async def start(self) -> None:
        await self.ws.send("getId")
        self.socket_id = await asyncio.wait_for(self._ready, 10)

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


async def legit_poster(url: str, room: str, seconds: float, per_second: float) -> int:
    """A viewer on 127.0.0.3 posting stamped messages at a human rate."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
    refused = 0
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            content = f"stamp:{time.perf_counter_ns()}"
            response = await http.post(
                "/messaging/messages/send",
                content=post_body(room, content),
                headers={"content-type": "application/json"},
            )
            refused += response.status_code != 200
            await asyncio.sleep(1 / per_second)
    return refused


async def flood_connection(
    port: int,
    request: bytes,
    rate: float,
    batch: int,
    stop: asyncio.Event,
    statuses: Counter[int],
) -> None:
    """Pipelined keep-alive requests from 127.0.0.2, ``batch`` at a time, paced to
    ``rate``; a closed connection is opened again at once, as a script would.
    ``statuses[-1]`` counts closed connections, ``statuses[-2]`` connects that did not
    complete within a second (a held address's SYNs are dropped)."""
    interval = batch / rate
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            opened = asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
            reader, writer = await asyncio.wait_for(opened, 1.0)
        except (TimeoutError, OSError):
            statuses[-2] += 1
            continue
        try:
            while not stop.is_set():
                writer.write(request * batch)
                for _ in range(batch):
                    await read_answer(reader, statuses)
                next_at = max(next_at + interval, time.monotonic() - 1.0)
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        except (ConnectionError, asyncio.IncompleteReadError):
            statuses[-1] += 1
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def read_answer(reader: asyncio.StreamReader, statuses: Counter[int]) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    statuses[int(head[9:12])] += 1
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)


def flood_request(kind: str, port: int, body: bytes) -> bytes:
    """``post``: an anonymous post; ``404``: a request for no route, the cheapest answer
    the HTTP stack gives, to tell its cost from the limiter's."""
    if kind == "404":
        return f"GET /messaging/nothing HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    return (
        f"POST /messaging/messages/send HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def phase(
    server: Server,
    viewer: Viewer,
    room: str,
    seconds: float,
    flood: Callable[[asyncio.Event], Coroutine[Any, Any, None]] | None,
) -> dict[str, float]:
    viewer.latencies_ms.clear()
    stop = asyncio.Event()
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    flooding = asyncio.create_task(flood(stop)) if flood else None
    refused = await legit_poster(server.url, room, seconds, 4)
    stop.set()
    if flooding:
        await flooding
    elapsed = time.monotonic() - started
    cpu = (server.cpu_seconds() - cpu_before) / elapsed * 100
    lat = viewer.latencies_ms
    return {
        "cpu_pct": cpu,
        "p50_ms": percentile(lat, 0.5),
        "p99_ms": percentile(lat, 0.99),
        "samples": len(lat),
        "legit_refused": refused,
        "elapsed": elapsed,
    }


async def flood_run(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    server = Server(tmp, {"FLOOD_HOLD_SECONDS": "0"} if args.no_hold else {}, args.server_core)
    try:
        await server.healthy()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            room = await live_room(http)
            viewer = Viewer(
                await websockets.connect(f"ws://127.0.0.1:{server.ws_port}", compression=None)
            )
            await viewer.start()
            join = [{"churchId": CHURCH, "conversationId": room, "socketId": viewer.socket_id}]
            (await http.post("/messaging/connections", json=join)).raise_for_status()
        quiet = await phase(server, viewer, room, args.seconds, None)
        statuses: Counter[int] = Counter()
        request = flood_request(args.flood, server.http_port, post_body(room, "flood"))
        per_connection = args.flood_rate / args.connections

        async def flood(stop: asyncio.Event) -> None:
            port, batch = server.http_port, args.batch
            await asyncio.gather(
                *(
                    flood_connection(port, request, per_connection, batch, stop, statuses)
                    for _ in range(args.connections)
                )
            )

        loud = await phase(server, viewer, room, args.seconds, flood)
        await viewer.close()
        answered = sum(n for status, n in statuses.items() if status > 0)
        return {
            "quiet_cpu": quiet["cpu_pct"],
            "quiet_p50": quiet["p50_ms"],
            "quiet_p99": quiet["p99_ms"],
            "flood_cpu": loud["cpu_pct"],
            "flood_p50": loud["p50_ms"],
            "flood_p99": loud["p99_ms"],
            "flood_rate": answered / loud["elapsed"],
            "flood_200": statuses[200],
            "flood_429": statuses[429],
            "flood_404": statuses[404],
            "flood_closed": statuses[-1],
            "flood_unconnected": statuses[-2],
            "legit_refused": quiet["legit_refused"] + loud["legit_refused"],
            "samples": quiet["samples"] + loud["samples"],
        }
    finally:
        server.stop()


async def flood_part(args: argparse.Namespace, tmp: Path) -> None:
    print(
        f"== flood: {args.flood_rate:.0f} anonymous posts/s offered from 127.0.0.2 "
        f"({args.connections} keep-alive connections, {args.batch} pipelined), "
        f"{args.seconds:.0f} s per phase, flood hold {'off' if args.no_hold else 'on'} =="
    )
    runs = [await flood_run(args, tmp) for _ in range(args.runs)]
    for n, run in enumerate(runs, 1):
        print(
            f"run {n} ({args.flood}): server CPU {run['quiet_cpu']:.0f}% of a core without "
            f"the flood, "
            f"{run['flood_cpu']:.0f}% with it; flood answered {run['flood_rate']:.0f}/s "
            f"({run['flood_200']} stored, {run['flood_429']} 429, {run['flood_404']} 404; "
            f"{run['flood_closed']} connections closed, {run['flood_unconnected']} connects "
            f"unanswered); viewer "
            f"latency p50/p99 {run['quiet_p50']:.1f}/{run['quiet_p99']:.1f} ms without, "
            f"{run['flood_p50']:.1f}/{run['flood_p99']:.1f} ms with; legit posts refused: "
            f"{run['legit_refused']:.0f}"
        )
    for key, label in (
        ("quiet_cpu", "server CPU % of a core, no flood"),
        ("flood_cpu", "server CPU % of a core, flood"),
        ("flood_rate", "flood requests answered per s"),
        ("quiet_p99", "viewer p99 ms, no flood"),
        ("flood_p99", "viewer p99 ms, flood"),
    ):
        print(f"  {label:34}: {spread([run[key] for run in runs])}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["check", "flood", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--flood-rate", type=float, default=10_000)
    parser.add_argument("--flood", choices=["post", "404"], default="post")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument(
        "--no-hold", action="store_true", help="FLOOD_HOLD_SECONDS=0: answer every request"
    )
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--server-core", type=int, default=None, help="taskset the server")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="steeple-limits-") as name:
        tmp = Path(name)
        if args.part in ("check", "both"):
            await check_part(args, tmp)
        if args.part in ("flood", "both"):
            await flood_part(args, tmp)


if __name__ == "__main__":
    uvloop.run(main(parse_args(None)))
