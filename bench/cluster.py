"""Cluster benchmark: 1, 2 and 3 Steeple nodes over Redis, one room spread evenly.

For each node count K, K ``steeple serve`` processes (``DELIVERY_PROVIDER=redis``)
share one PostgreSQL database and one Redis, plus one *bystander* node that holds a
socket in another room only. The generator (this process: picows on uvloop) opens N
sockets spread evenly over the K nodes, joins each one through the *next* node (as a
load balancer would, so joins cross the cluster), then posts M messages round-robin
to the K nodes and counts the ``message`` frames delivered. Each message's content
starts with its send time, so every receiver knows the send-to-receive latency.

Reported per K: delivered frames/s, p50/p99 send-to-receive latency, the CPU the
member nodes used, and what the bystander paid for the room it has no member of:
frames it received from Redis (should be 0) and its CPU time during the run.

    python bench/cluster.py --nodes 1,2,3 --sockets 3000 --messages 300

Prints a table and writes bench/results/cluster-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from fanout import (
    CHURCH_ID,
    CONTENT_SIZE,
    SERVICE_ID,
    STAMP_DIGITS,
    STEEPLE_BIN,
    Counters,
    HttpClient,
    Server,
    free_port,
    limit_env,
    open_sockets,
    percentile,
    raise_fd_limit,
    stop_server,
    wait_delivered,
    wait_quiet,
)
from fanout import wait_healthy as wait_for_health
from result_files import write_result_file

POSTGRES_ADMIN = os.environ.get(
    "STEEPLE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
JWT_SECRET = "bench-secret-0123456789abcdef0123456789"
ENCRYPTION_KEY = "0123456789abcdef0123456789abcdef"
PADDING = "x" * (CONTENT_SIZE - STAMP_DIGITS - 1)


@dataclass
class ClusterRun:
    nodes: int
    sockets: int
    messages: int
    expected_frames: int = 0
    delivered_frames: int = 0
    frames_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    join_s: float = 0.0
    run_s: float = 0.0
    member_cpu_pct: float = 0.0
    node_cpu_per_frame_us: list[float] = field(default_factory=list)
    """Each member's CPU seconds over the frames its own sockets received (an even
    share of the delivered frames: the room is spread evenly), in microseconds."""
    bystander_frames: int = 0
    bystander_cpu_ms: float = 0.0
    bystander_idle_cpu_ms: float = 0.0
    generator_cpu_pct: float = 0.0
    error: str | None = None


# ---------------------------------------------------------------- processes


def start_node(database_url: str, redis_url: str, prefix: str, tmp: Path, name: str) -> Server:
    http_port, ws_port = free_port(), free_port()
    env = {
        **os.environ,
        "DELIVERY_PROVIDER": "redis",
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "NODE_ID": name,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SERVER_PORT": str(http_port),
        "SOCKET_PORT": str(ws_port),
        # every bench socket comes from 127.0.0.1: no per-address socket cap
        "MAX_SOCKETS_PER_ADDRESS": os.environ.get("MAX_SOCKETS_PER_ADDRESS", "0"),
        **limit_env(True),
    }
    log_path = tmp / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(STEEPLE_BIN), "serve", "--host", "127.0.0.1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(name, proc, http_port, ws_port, log_path)


def migrate(database_url: str) -> None:
    subprocess.run(
        [
            str(STEEPLE_BIN),
            "migrate",
            "--database-url",
            database_url,
            "--jwt-secret",
            JWT_SECRET,
            "--encryption-key",
            ENCRYPTION_KEY,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


async def wait_healthy(node: Server, timeout_s: float = 30) -> None:
    client = HttpClient("127.0.0.1", node.http_port)
    try:
        await wait_for_health(node, client, timeout_s)
    except RuntimeError:
        raise RuntimeError(f"node exited:\n{node.log_tail(40)}") from None
    finally:
        client.close()


async def delivery_report(node: Server) -> dict[str, Any]:
    client = HttpClient("127.0.0.1", node.http_port)
    try:
        report: dict[str, Any] = (await client.get("/health"))["delivery"]
        return report
    finally:
        client.close()


def create_database() -> tuple[str, str]:
    """A fresh PostgreSQL database for one run: (async url, name)."""
    import asyncpg  # type: ignore[import-untyped,unused-ignore]

    name = "steeple_bench_" + secrets.token_hex(4)

    async def create() -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()

    asyncio.run(create())
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", name


def drop_database(name: str) -> None:
    import asyncpg  # type: ignore[import-untyped,unused-ignore]

    async def drop() -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    asyncio.run(drop())


# ---------------------------------------------------------------- one run


async def join_through_next_node(
    clients: list[HttpClient], conversation_id: str, socket_ids: list[list[str]], batch: int
) -> None:
    """Node i's sockets join through node i+1: the holder is told over Redis."""
    for index, ids in enumerate(socket_ids):
        client = clients[(index + 1) % len(clients)]
        for start in range(0, len(ids), batch):
            body = [
                {
                    "churchId": CHURCH_ID,
                    "conversationId": conversation_id,
                    "socketId": sid,
                    "displayName": f"viewer{index}-{start + i}",
                }
                for i, sid in enumerate(ids[start : start + batch])
            ]
            await client.post("/messaging/connections", body)


async def post_round_robin(
    clients: list[HttpClient], conversation_id: str, count: int, concurrency: int
) -> None:
    todo = iter(range(count))

    async def worker() -> None:
        for number in todo:
            content = f"{time.perf_counter_ns():0{STAMP_DIGITS}d} {PADDING}"
            body = [
                {
                    "churchId": CHURCH_ID,
                    "conversationId": conversation_id,
                    "content": content,
                    "displayName": "bench",
                }
            ]
            await clients[number % len(clients)].post("/messaging/messages/send", body)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def occupy_bystander(bystander: Server, counters: Counters) -> Any:
    """One socket in another room, so the bystander is a working node, just not in ours."""
    client = HttpClient("127.0.0.1", bystander.http_port)
    path = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/otherRoom01"
    other = (await client.get(path))["id"]
    sockets = await open_sockets(bystander.ws_url, 1, counters, 1)
    body = [
        {
            "churchId": CHURCH_ID,
            "conversationId": other,
            "socketId": sockets[0][1].socket_id.result(),
            "displayName": "elsewhere",
        }
    ]
    await client.post("/messaging/connections", body)
    client.close()
    return sockets


async def measure(
    members: list[Server], bystander: Server, run: ClusterRun, args: argparse.Namespace
) -> None:
    for node in [*members, bystander]:
        await wait_healthy(node)
    clients = [HttpClient("127.0.0.1", node.http_port) for node in members]
    counters, others = Counters(), Counters()
    sockets: list[Any] = []
    try:
        path = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/{SERVICE_ID}"
        conversation_id = (await clients[0].get(path))["id"]
        sockets += await occupy_bystander(bystander, others)
        per_node = run.sockets // len(members)
        ids: list[list[str]] = []
        for node in members:
            opened = await open_sockets(node.ws_url, per_node, counters, 200)
            sockets += opened
            ids.append([listener.socket_id.result() for _, listener in opened])
        run.sockets = per_node * len(members)
        clock = time.perf_counter()
        await join_through_next_node(clients, conversation_id, ids, args.join_batch)
        await wait_quiet(counters, 1.0, 60)
        run.join_s = time.perf_counter() - clock
        await warm_up(clients, conversation_id, counters, run.sockets, args)
        await timed(members, bystander, clients, conversation_id, counters, run, args)
    finally:
        for client in clients:
            client.close()
        for node in [*members, bystander]:
            stop_server(node)
        for transport, _ in sockets:
            transport.disconnect(graceful=False)


async def warm_up(
    clients: list[HttpClient],
    conversation_id: str,
    counters: Counters,
    sockets: int,
    args: argparse.Namespace,
) -> None:
    await post_round_robin(clients, conversation_id, args.concurrency, args.concurrency)
    await wait_delivered(counters, args.concurrency * sockets, 15)
    await wait_quiet(counters, 0.3, 15)
    counters.reset()


async def timed(
    members: list[Server],
    bystander: Server,
    clients: list[HttpClient],
    conversation_id: str,
    counters: Counters,
    run: ClusterRun,
    args: argparse.Namespace,
) -> None:
    """Idle baseline for the bystander, then the measured fan-out."""
    idle_cpu = bystander.cpu_s()
    await asyncio.sleep(1.0)
    run.bystander_idle_cpu_ms = (bystander.cpu_s() - idle_cpu) * 1000
    frames_before = (await delivery_report(bystander))["framesReceived"]
    cpu_before = [node.cpu_s() for node in members], bystander.cpu_s(), time.process_time()
    started = time.perf_counter_ns()
    await post_round_robin(clients, conversation_id, run.messages, args.concurrency)
    run.expected_frames = run.messages * run.sockets
    await wait_delivered(counters, run.expected_frames, 15)
    busy_s = run.run_s = max(counters.last_message_ns - started, 1) / 1e9
    spent = [node.cpu_s() - before for node, before in zip(members, cpu_before[0], strict=True)]
    member_cpu = sum(spent)
    share = max(counters.messages / len(members), 1)
    run.node_cpu_per_frame_us = [1e6 * cpu / share for cpu in spent]
    run.member_cpu_pct = 100 * member_cpu / busy_s / len(members)
    run.bystander_cpu_ms = (bystander.cpu_s() - cpu_before[1]) * 1000
    run.generator_cpu_pct = 100 * (time.process_time() - cpu_before[2]) / busy_s
    run.bystander_frames = (await delivery_report(bystander))["framesReceived"] - frames_before
    run.delivered_frames = counters.messages
    run.frames_per_s = counters.messages / busy_s
    latencies = sorted(counters.latencies_ns)
    run.p50_ms, run.p99_ms = percentile(latencies, 0.50), percentile(latencies, 0.99)


def run_cluster(nodes: int, args: argparse.Namespace) -> ClusterRun:
    run = ClusterRun(nodes, args.sockets, args.messages)
    database_url, name = create_database()
    prefix = "steeple-bench-" + secrets.token_hex(3)
    migrate(database_url)  # once, before the nodes start side by side
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        members = [
            start_node(database_url, args.redis_url, prefix, Path(tmp), f"member{i}")
            for i in range(nodes)
        ]
        bystander = start_node(database_url, args.redis_url, prefix, Path(tmp), "bystander")
        try:
            uvloop.run(asyncio.wait_for(measure(members, bystander, run, args), 600))
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"
            print(f"  {nodes} nodes failed: {run.error}", file=sys.stderr)
        finally:
            for node in [*members, bystander]:
                stop_server(node)
            drop_database(name)
    return run


# ---------------------------------------------------------------- report


def table(runs: list[ClusterRun]) -> str:
    lines = [
        f"{'nodes':>5} {'sockets':>7} {'frames/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'node CPU%':>9} {'CPU us/frame per node':>22} {'delivered':>17} {'run s':>6} "
        f"{'bystander frames':>16} "
        f"{'bystander CPU ms (idle 1 s)':>28}"
    ]
    for r in runs:
        if r.error:
            lines.append(f"{r.nodes:>5} error: {r.error}")
            continue
        lines.append(
            f"{r.nodes:>5} {r.sockets:>7} {r.frames_per_s:>10,.0f} {r.p50_ms:>7.1f} "
            f"{r.p99_ms:>7.1f} {r.member_cpu_pct:>9.0f} "
            f"{' / '.join(f'{us:.2f}' for us in r.node_cpu_per_frame_us):>22} "
            f"{f'{r.delivered_frames:,}/{r.expected_frames:,}':>17} {r.run_s:>6.1f} "
            f"{r.bystander_frames:>16} "
            f"{f'{r.bystander_cpu_ms:.0f} ({r.bystander_idle_cpu_ms:.0f})':>28}"
        )
    return "\n".join(lines)


def write_results(runs: list[ClusterRun], args: argparse.Namespace) -> Path:
    return write_result_file("cluster", {"args": vars(args), "runs": [asdict(r) for r in runs]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--nodes", default="1,2,3", help="comma-separated node counts")
    parser.add_argument("--sockets", type=int, default=3000, help="sockets in the room")
    parser.add_argument("--messages", type=int, default=300, help="messages per run")
    parser.add_argument("--concurrency", type=int, default=8, help="sends in flight")
    parser.add_argument("--join-batch", type=int, default=250, help="connections per POST")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args(argv)
    raise_fd_limit(args.sockets * 2 + 1024)
    runs = []
    for count in (int(n) for n in args.nodes.split(",") if n):
        print(f"running {count} node(s), {args.sockets} sockets ...", file=sys.stderr, flush=True)
        runs.append(run_cluster(count, args))
    print(table(runs))
    print(f"\nresults: {write_results(runs, args)}")
    return 1 if any(r.error for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
