"""The Sunday spike: thousands of viewers arrive at a live stream while its chat runs.

``--viewers`` viewers arrive at random over ``--seconds`` from ``--addresses`` loopback
addresses (127.0.1.1, 127.0.1.2, ...: a church's viewers come from many networks and
a few shared Wi-Fis; each client socket binds its local address). Each one, as the
B1 live page does: opens a socket and asks its socketId, fetches the current room
(``GET /messaging/conversations/current/...``) and its history (``catchup``), and joins
(``POST /messaging/connections``). ``--reconnect`` of them (5 %) drop their socket
once a few seconds later and do it all again. Meanwhile the chat runs at
``--chat-rate`` messages/s (anonymous posts from the viewers' addresses, at human
rates per address) and a host posts in the host room (``--host-rate``/s).

Reported: join latency (socket open to the first attendance frame on that socket;
also to the join's HTTP answer) p50/p99, chat message send-to-receive p50/p99 during
the spike, attendance frames per join (received by all sockets / joins), server CPU
(/proc, the process tree) and the generator's share, and every 429 (a legitimate
viewer must never see one) or other failed request.

    python bench/spike.py                          # 5,000 viewers over 60 s
    python bench/spike.py --viewers 1000 --seconds 20

Writes bench/results/spike-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import uvloop
from fanout import (
    CHURCH_ID,
    CONTENT_SIZE,
    JWT_SECRET,
    MESSAGE_TAG,
    RESULTS_DIR,
    SERVICE_ID,
    SOCKET_ID_TAG,
    STAMP_DIGITS,
    HttpClient,
    HttpError,
    Server,
    percentile,
    pin_generator,
    raise_fd_limit,
    start_server,
    stop_server,
    wait_healthy,
)
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from proc_cpu import CpuSnapshot, CpuUse

from steeple.auth.principal import issue_token

ATTENDANCE_TAG = b'"action":"attendance"'
CONTENT_TAG = b'"content":"'
CURRENT = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/{SERVICE_ID}"
PADDING = "x" * (CONTENT_SIZE - STAMP_DIGITS - 1)
LATENCY_SAMPLE = 10  # every 10th viewer records message latency
WINDOW_S = 10  # join and chat p99 are also reported per window of this many seconds
WINDOW_NS = WINDOW_S * 1_000_000_000


@dataclass
class Tally:
    """What every viewer saw, in one place (one event loop: no locks)."""

    spike_on: bool = True
    started_ns: int = 0
    joins: int = 0
    reconnects: int = 0
    attendance_frames: int = 0
    message_frames: int = 0
    socket_refusals: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    join_ns: list[int] = field(default_factory=list)  # socket open -> first attendance
    join_http_ns: list[int] = field(default_factory=list)  # socket open -> join answered
    welcome_ns: list[int] = field(default_factory=list)  # join answered -> first attendance
    message_ns: list[int] = field(default_factory=list)
    message_at_ns: list[int] = field(default_factory=list)  # when each of message_ns arrived
    join_at_ns: list[int] = field(default_factory=list)  # when each of join_ns arrived
    lost_sockets: int = 0

    def fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1


class ViewerSocket(WSListener):
    def __init__(self, tally: Tally, opened_ns: int, sampled: bool) -> None:
        self.tally, self.opened_ns, self.sampled = tally, opened_ns, sampled
        self.socket_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.attended = False
        self.answered_ns = 0  # when its join was answered
        self.leaving = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()
            return
        payload = frame.get_payload_as_bytes()
        now = time.perf_counter_ns()
        if MESSAGE_TAG in payload:
            self.tally.message_frames += 1
            if self.sampled and self.tally.spike_on:
                start = payload.find(CONTENT_TAG) + len(CONTENT_TAG)
                self.tally.message_ns.append(now - int(payload[start : start + STAMP_DIGITS]))
                self.tally.message_at_ns.append(now)
        elif ATTENDANCE_TAG in payload:
            self.tally.attendance_frames += 1
            if not self.attended:
                self.attended = True
                self.tally.join_ns.append(now - self.opened_ns)
                self.tally.join_at_ns.append(now)
                if self.answered_ns:
                    self.tally.welcome_ns.append(now - self.answered_ns)
        elif not self.socket_id.done() and SOCKET_ID_TAG in payload:
            self.socket_id.set_result(orjson.loads(payload)["data"])

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.leaving:
            self.tally.lost_sockets += 1
        if not self.socket_id.done():
            self.socket_id.set_exception(ConnectionError("socket closed before its id"))


@dataclass
class Plan:
    url: str
    port: int
    viewers: int
    seconds: float
    addresses: list[str]
    reconnect: float
    chat_rate: float
    host_rate: float


def failure(step: str, exc: Exception) -> str:
    """``"<step> <HTTP status>"`` for an answer other than 2xx, else the error's type."""
    if isinstance(exc, HttpError) and (found := re.search(r" -> (\d{3})", str(exc))):
        return f"{step} {found.group(1)}"
    return f"{step} {type(exc).__name__}"


def count_refusal(tally: Tally, exc: Exception) -> None:
    text = str(exc)
    status = "429" if "429" in text else type(exc).__name__
    tally.socket_refusals[status] = tally.socket_refusals.get(status, 0) + 1


async def arrive(
    plan: Plan, tally: Tally, address: str, sampled: bool
) -> tuple[WSTransport, ViewerSocket] | None:
    """One viewer's arrival: socket, id, current room, history, join."""
    opened = time.perf_counter_ns()
    try:
        transport, listener = await ws_connect(
            lambda: ViewerSocket(tally, opened, sampled), plan.url, local_addr=(address, 0)
        )
    except Exception as exc:  # a refused handshake (429 included) or a reset
        count_refusal(tally, exc)
        return None
    assert isinstance(listener, ViewerSocket)
    http = HttpClient("127.0.0.1", plan.port, local_host=address)
    try:
        transport.send(WSMsgType.TEXT, b"getId")
        socket_id = await asyncio.wait_for(listener.socket_id, 30)
        room = (await http.get(CURRENT))["id"]
        await http.get(f"/messaging/messages/catchup/{CHURCH_ID}/{room}")
        body = [{"churchId": CHURCH_ID, "conversationId": room, "socketId": socket_id,
                 "displayName": "Anonymous "}]  # fmt: skip
        await http.post("/messaging/connections", body)
        listener.answered_ns = time.perf_counter_ns()
        tally.join_http_ns.append(listener.answered_ns - opened)
        if listener.attended:  # its attendance came ahead of the answer
            tally.welcome_ns.append(0)
        tally.joins += 1
    except (HttpError, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        tally.fail(failure("join", exc))
        transport.disconnect()
        return None
    finally:
        http.close()
    return transport, listener


async def viewer(plan: Plan, tally: Tally, index: int, at: float, start: float) -> Any:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start + at - loop.time()))
    address = plan.addresses[index % len(plan.addresses)]
    opened = await arrive(plan, tally, address, index % LATENCY_SAMPLE == 0)
    if opened is None or random.random() >= plan.reconnect:
        return opened
    await asyncio.sleep(random.uniform(2.0, 8.0))  # a phone changes networks
    opened[1].leaving = True
    opened[0].disconnect()
    tally.reconnects += 1
    return await arrive(plan, tally, address, index % LATENCY_SAMPLE == 0)


async def paced(rate: float, until: asyncio.Event, post: Any) -> None:
    """Call ``post(i)`` at ``rate``/s, open loop, until ``until`` is set."""
    if rate <= 0:
        return
    loop = asyncio.get_running_loop()
    start, index, tasks = loop.time(), 0, set()
    while not until.is_set():
        if (delay := start + index / rate - loop.time()) > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(post(index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        index += 1
    await asyncio.gather(*tasks)


async def chat(plan: Plan, tally: Tally, room: str, until: asyncio.Event) -> None:
    """Anonymous chat posts, spread over the viewers' addresses."""
    clients = [HttpClient("127.0.0.1", plan.port, local_host=a) for a in plan.addresses]

    async def post(index: int) -> None:
        content = f"{time.perf_counter_ns():0{STAMP_DIGITS}d} {PADDING}"
        body = [{"churchId": CHURCH_ID, "conversationId": room, "content": content,
                 "displayName": f"viewer{index}"}]  # fmt: skip
        try:
            await clients[index % len(clients)].post("/messaging/messages/send", body)
        except (HttpError, OSError) as exc:
            tally.fail(failure("chat", exc))

    try:
        await paced(plan.chat_rate, until, post)
    finally:
        for client in clients:
            client.close()


async def host(plan: Plan, tally: Tally, until: asyncio.Event) -> None:
    """A host (``Chat__Host``) posting in the service's host room."""
    token = issue_token(
        JWT_SECRET, church_id=CHURCH_ID, person_id="benchHost", first_name="Bench",
        last_name="Host", permissions=["Chat__Host"],
    )  # fmt: skip
    client = HttpClient("127.0.0.1", plan.port, headers=f"Authorization: Bearer {token}\r\n")
    try:
        room = (await client.get(f"/content/streamingServices/{SERVICE_ID}/hostChat"))["room"]
        path = f"/messaging/conversations/current/{CHURCH_ID}/streamingLiveHost/"
        conversation = (await client.get(path + quote(room, safe="")))["id"]

        async def post(index: int) -> None:
            body = [{"conversationId": conversation, "content": f"host note {index}"}]
            try:
                await client.post("/messaging/messages", body)
            except (HttpError, OSError) as exc:
                tally.fail(failure("host", exc))

        await paced(plan.host_rate, until, post)
    finally:
        client.close()


@dataclass
class SpikeResult:
    viewers: int
    seconds: float
    addresses: int
    chat_rate: float
    joins: int = 0
    reconnects: int = 0
    join_p50_ms: float = 0.0
    join_p99_ms: float = 0.0
    join_http_p50_ms: float = 0.0
    join_http_p99_ms: float = 0.0
    welcome_p50_ms: float = 0.0
    welcome_p99_ms: float = 0.0
    message_p50_ms: float = 0.0
    message_p99_ms: float = 0.0
    message_samples: int = 0
    attendance_frames: int = 0
    attendance_per_join: float = 0.0
    server_cpu_s: float = 0.0
    server_cpu_pct: float = 0.0
    generator_cpu_pct: float = 0.0
    generator_saturated: bool = False
    background_cpu_pct: float = 0.0
    refused_429: int = 0
    socket_refusals: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    lost_sockets: int = 0
    wall_s: float = 0.0
    windows: list[dict[str, float]] = field(default_factory=list)


async def spike(plan: Plan, server: Server, result: SpikeResult) -> None:
    tally = Tally(started_ns=time.perf_counter_ns())
    probe = HttpClient("127.0.0.1", plan.port)
    await wait_healthy(server, probe, 30)
    room = (await probe.get(CURRENT))["id"]
    probe.close()
    loop = asyncio.get_running_loop()
    arrivals = sorted(random.uniform(0, plan.seconds) for _ in range(plan.viewers))
    done = asyncio.Event()
    before, started = CpuSnapshot.take([server.proc.pid]), time.perf_counter()
    background = [asyncio.create_task(chat(plan, tally, room, done)),
                  asyncio.create_task(host(plan, tally, done))]  # fmt: skip
    start = loop.time()
    sockets = await asyncio.gather(
        *(viewer(plan, tally, i, at, start) for i, at in enumerate(arrivals))
    )
    await asyncio.sleep(2.0)  # the last joins' attendance frames and chat
    done.set()
    await asyncio.gather(*background)
    result.wall_s = time.perf_counter() - started
    use = CpuUse.between(before, CpuSnapshot.take([server.proc.pid]), result.wall_s)
    tally.spike_on = False
    server.kill()
    for opened in sockets:
        if opened is not None:
            opened[1].leaving = True
            opened[0].disconnect(graceful=False)
    fill(result, tally, use)


def fill(result: SpikeResult, tally: Tally, use: CpuUse) -> None:
    lists = (tally.join_ns, tally.join_http_ns, tally.welcome_ns, tally.message_ns)
    join, join_http, welcome, message = (sorted(v) for v in lists)
    result.joins, result.reconnects = tally.joins, tally.reconnects
    result.join_p50_ms, result.join_p99_ms = percentile(join, 0.5), percentile(join, 0.99)
    result.join_http_p50_ms = percentile(join_http, 0.5)
    result.join_http_p99_ms = percentile(join_http, 0.99)
    result.welcome_p50_ms = percentile(welcome, 0.5)
    result.welcome_p99_ms = percentile(welcome, 0.99)
    result.message_p50_ms, result.message_p99_ms = (
        percentile(message, 0.5), percentile(message, 0.99))  # fmt: skip
    result.message_samples = len(message)
    result.attendance_frames = tally.attendance_frames
    result.attendance_per_join = tally.attendance_frames / max(1, tally.joins)
    result.server_cpu_s, result.server_cpu_pct = use.server_s, use.server_pct
    result.generator_cpu_pct = use.generator_pct
    result.generator_saturated = use.generator_saturated
    result.background_cpu_pct = use.background_pct
    result.socket_refusals, result.failures = tally.socket_refusals, tally.failures
    result.refused_429 = sum(v for k, v in {**tally.failures, **tally.socket_refusals}.items()
                             if "429" in k)  # fmt: skip
    result.lost_sockets = tally.lost_sockets
    result.windows = by_window(tally)


def by_window(tally: Tally) -> list[dict[str, float]]:
    """Join and chat p99 in each :data:`WINDOW_S` of the spike: how they grow with the room."""

    def split(at: list[int], values: list[int]) -> dict[int, list[int]]:
        windows: dict[int, list[int]] = {}
        for when, value in zip(at, values, strict=True):
            windows.setdefault((when - tally.started_ns) // WINDOW_NS, []).append(value)
        return windows

    joins = split(tally.join_at_ns, tally.join_ns)
    messages = split(tally.message_at_ns, tally.message_ns)
    return [window(index, joins.get(index, []), messages.get(index, []))
            for index in sorted(joins.keys() | messages.keys())]  # fmt: skip


def window(index: int, joins: list[int], messages: list[int]) -> dict[str, float]:
    return {"from_s": index * WINDOW_S, "joins": len(joins),
            "join_p99_ms": percentile(sorted(joins), 0.99),
            "message_p99_ms": percentile(sorted(messages), 0.99)}  # fmt: skip


def report(r: SpikeResult) -> str:
    sat = " (generator saturated: >90% of its core)" if r.generator_saturated else ""
    lines = [
        f"spike: {r.viewers:,} viewers over {r.seconds:g} s from {r.addresses} addresses, "
        f"chat {r.chat_rate:g}/s; {r.joins:,} joins ({r.reconnects} reconnects) "
        f"in {r.wall_s:.1f} s",
        f"  join latency (socket open -> first attendance) p50 {r.join_p50_ms:.0f} ms"
        f"  p99 {r.join_p99_ms:.0f} ms",
        f"  join answered (socket open -> POST /connections 200) p50 {r.join_http_p50_ms:.0f} ms"
        f"  p99 {r.join_http_p99_ms:.0f} ms",
        f"  answered -> first attendance p50 {r.welcome_p50_ms:.0f} ms"
        f"  p99 {r.welcome_p99_ms:.0f} ms",
        f"  chat message latency p50 {r.message_p50_ms:.1f} ms  p99 {r.message_p99_ms:.1f} ms"
        f"  ({r.message_samples:,} samples){sat}",
        f"  attendance frames per join {r.attendance_per_join:.1f} ({r.attendance_frames:,})",
        f"  server CPU {r.server_cpu_s:.1f} s ({r.server_cpu_pct:.0f}% of a core); "
        f"generator {r.generator_cpu_pct:.0f}%{sat}; others' CPU {r.background_cpu_pct:.0f}%",
        f"  429 answers: {r.refused_429}; socket refusals {r.socket_refusals or 0}; "
        f"failed requests {r.failures or 0}; sockets lost {r.lost_sockets}",
    ]
    lines += [
        f"  {w['from_s']:>3.0f}-{w['from_s'] + WINDOW_S:.0f} s: {w['joins']:>5.0f} joins,"
        f" join p99 {w['join_p99_ms']:.0f} ms, chat p99 {w['message_p99_ms']:.1f} ms"
        for w in r.windows
    ]
    if r.background_cpu_pct > 20:
        lines.append("  note: others' CPU > 20% of a core: figures taken on a loaded machine")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0, help="arrivals spread over")
    parser.add_argument("--addresses", type=int, default=50, help="127.0.1.1 .. 127.0.1.N")
    parser.add_argument("--reconnect", type=float, default=0.05, help="share that reconnect")
    parser.add_argument("--chat-rate", type=float, default=20.0, help="chat messages/s")
    parser.add_argument("--host-rate", type=float, default=0.5, help="host-room posts/s")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    random.seed(args.seed)
    raise_fd_limit(args.viewers * 3 + 1024)
    core = pin_generator(args.no_pin)
    addresses = [f"127.0.1.{i}" for i in range(1, args.addresses + 1)]
    result = SpikeResult(args.viewers, args.seconds, args.addresses, args.chat_rate)
    with tempfile.TemporaryDirectory(prefix="spike-") as tmp:
        # the default per-address socket cap stays on: 50 addresses share the viewers
        env = {"MAX_SOCKETS_PER_ADDRESS": os.environ.get("MAX_SOCKETS_PER_ADDRESS", "500")}
        server = start_server("steeple", core, Path(tmp), extra_env=env)
        plan = Plan(server.ws_url, server.http_port, args.viewers, args.seconds, addresses,
                    args.reconnect, args.chat_rate, args.host_rate)  # fmt: skip
        try:
            uvloop.run(spike(plan, server, result))
        finally:
            stop_server(server)
            print(server.log_tail(5), file=sys.stderr)
    print(report(result))
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"spike-{time.strftime('%Y%m%d-%H%M%S')}.json"
    document = {"args": vars(args), "result": asdict(result),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "loaded_machine": result.background_cpu_pct > 20}  # fmt: skip
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nresults: {out}")
    return 1 if result.refused_429 or result.joins < args.viewers else 0


if __name__ == "__main__":
    sys.exit(main())
