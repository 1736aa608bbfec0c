"""What one chat post costs the server: SQL statements, thread round trips, CPU.

Two measurements of ``POST /messaging/messages/send`` (an anonymous post to a live
room with no sockets, so the figure is the post path's own: REST, store, fan-out to
nobody), posts one at a time:

* ``counts``: a node in this process, on SQLite; every SQL statement (SQLAlchemy's
  ``before_cursor_execute``) and every hand-back from another thread to the event loop
  (``call_soon_threadsafe``: aiosqlite's worker thread or an executor finishing a job,
  one per round trip) while the posts run, divided by the posts. Counts, not times:
  they do not depend on how busy the machine is.
* ``cpu``: ``steeple serve`` as a subprocess; the server's CPU seconds (user + system,
  every thread, from ``/proc``) for ``--posts`` posts, per post, over ``--runs`` runs
  (min / median / max).

    PYTHONPATH=src .venv/bin/python bench/post_cost.py --posts 1000 --runs 3

Writes bench/results/post-cost-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import event
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.fanout import BENCH_LIMITS, HttpClient, free_port  # noqa: E402
from bench.proc_cpu import tree_cpu_s  # noqa: E402

from steeple.node import Node  # noqa: E402
from steeple.settings import Settings  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
CHURCH = "benchChurch"
SERVICE = "benchSvc001"
WARM_UP = 20
ENV = {"JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
       "ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef",
       **BENCH_LIMITS}  # fmt: skip
"""Rate limits on (each post pays for its check) but too high to refuse one address."""


class CountingLoop(uvloop.Loop):  # type: ignore[misc]
    """uvloop, counting the callbacks other threads hand back to it."""

    handed_back = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        CountingLoop.handed_back += 1
        return super().call_soon_threadsafe(*args, **kwargs)


async def post_all(client: HttpClient, conversation_id: str, posts: int) -> None:
    body = [{"churchId": CHURCH, "conversationId": conversation_id,
             "content": "hello from the bench", "displayName": "bench"}]  # fmt: skip
    for _ in range(posts):
        await client.post("/messaging/messages/send", body)


async def current_room(client: HttpClient) -> str:
    room = await client.get(f"/messaging/conversations/current/{CHURCH}/streamingLive/{SERVICE}")
    return str(room["id"])


async def counts(posts: int) -> dict[str, Any]:
    statements: collections.Counter[str] = collections.Counter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[" ".join(statement.split()[:3])] += 1

    with tempfile.TemporaryDirectory() as tmp:
        env = {**ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db"}
        node = Node(Settings.from_env(env).override(host="127.0.0.1", port=0, socket_port=0))
        await node.start()
        client = HttpClient("127.0.0.1", node.http_port)
        try:
            room = await current_room(client)
            await post_all(client, room, WARM_UP)
            event.listen(Engine, "before_cursor_execute", on_statement)
            CountingLoop.handed_back = 0
            await post_all(client, room, posts)
            handed_back = CountingLoop.handed_back
            event.remove(Engine, "before_cursor_execute", on_statement)
        finally:
            client.close()
            await node.stop()
    return {"statements_per_post": sum(statements.values()) / posts,
            "statements": {k: v / posts for k, v in statements.items()},
            "thread_round_trips_per_post": handed_back / posts}  # fmt: skip


async def cpu_run(posts: int) -> float:
    """Server CPU seconds per post, one fresh server."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, **ENV, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
               "HOST": "127.0.0.1", "SERVER_PORT": str(port), "SOCKET_PORT": str(free_port()),
               "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
        command = [sys.executable, "-m", "steeple.cli", "serve"]
        server = await asyncio.create_subprocess_exec(
            *command, env=env, stderr=asyncio.subprocess.DEVNULL
        )
        client = HttpClient("127.0.0.1", port)
        try:
            room = await wait_for_room(client)
            await post_all(client, room, WARM_UP)
            before = tree_cpu_s(server.pid)
            await post_all(client, room, posts)
            return (tree_cpu_s(server.pid) - before) / posts
        finally:
            client.close()
            server.terminate()
            await server.wait()


async def wait_for_room(client: HttpClient) -> str:
    for _ in range(400):
        try:
            return await current_room(client)
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("steeple did not start")


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


async def main(posts: int, runs: int) -> dict[str, Any]:
    counted = await counts(posts)
    print(f"SQL statements per post: {counted['statements_per_post']:.2f} "
          f"{counted['statements']}")  # fmt: skip
    print(f"thread round trips per post: {counted['thread_round_trips_per_post']:.2f}")
    per_post = [await cpu_run(posts) for _ in range(runs)]
    cpu = spread([1e6 * v for v in per_post])
    print(f"server CPU per post ({posts} posts, {runs} runs): median {cpu['median']:.0f} µs "
          f"[{cpu['min']:.0f}-{cpu['max']:.0f}]")  # fmt: skip
    return {**counted, "posts": posts, "runs": runs, "cpu_us_per_post": cpu,
            "cpu_us_per_post_runs": [1e6 * v for v in per_post]}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.set_event_loop_policy(None)
    loop = CountingLoop()
    result = loop.run_until_complete(main(args.posts, args.runs))
    loop.close()
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"post-cost-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
