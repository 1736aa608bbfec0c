"""Push on the post path: what a push service that never answers costs a message.

Runs ``steeple serve`` (a subprocess) with push off, then with web push on where every
recipient's browser is subscribed at a push service that accepts TLS and then never
answers (the worst case: every push worker is stuck until ``PUSH_TIMEOUT``). Each run
opens K private threads from one sender, whose recipients have no socket, so every
post queues a push. The sender's own socket is in every thread's room; a post is
timed from ``POST /messaging/messages`` until its ``message`` frame arrived and the
POST answered. Posts go one at a time, so the time is the message path's alone.

    .venv/bin/python bench/push_path.py --posts 500 --runs 3

Prints p50/p95/p99 per run and writes bench/results/push-path-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.ports import free_port  # noqa: E402
from tests.push.browser import BrowserKeys  # noqa: E402
from tests.push.expo_ca import make_certificates  # noqa: E402

from steeple.auth.principal import issue_token  # noqa: E402
from steeple.push.vapid import VapidKeys  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
SECRET = "bench-secret-0123456789abcdef0123456789"
CHURCH = "CH1"


async def black_hole(cert: Path, key: Path) -> asyncio.Server:
    """Accepts TLS connections and reads forever: a push service that never answers."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            while await reader.read(65536):
                pass
        writer.close()

    return await asyncio.start_server(hold, "127.0.0.1", 0, ssl=context)


def headers(person: str) -> dict[str, str]:
    token = issue_token(
        SECRET, church_id=CHURCH, person_id=person, first_name="B", last_name=person
    )
    return {"Authorization": f"Bearer {token}"}


async def start_node(
    tmp: Path, push_env: dict[str, str]
) -> tuple[asyncio.subprocess.Process, int, int]:
    http_port, socket_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "SERVER_PORT": str(http_port),
        "SOCKET_PORT": str(socket_port),
        "HOST": "127.0.0.1",
        "JWT_SECRET": SECRET,
        "ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef",
        **push_env,
    }
    # This checkout's code, whatever the environment has installed.
    env["PYTHONPATH"] = str(ROOT / "src")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "steeple.cli", "serve", env=env, stderr=asyncio.subprocess.DEVNULL
    )
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{http_port}/health")).status_code == 200:
                    return process, http_port, socket_port
            await asyncio.sleep(0.05)
    process.kill()
    raise RuntimeError("steeple did not become healthy")


async def open_threads(http: httpx.AsyncClient, count: int) -> list[tuple[str, str]]:
    """(conversationId, recipient) of ``count`` private threads from the sender S."""
    threads = []
    for n in range(count):
        recipient = f"R{n}"
        conversation = {"contentType": "privateMessage", "contentId": "S", "title": "PM"}
        made = await http.post("/conversations", json=[conversation], headers=headers("S"))
        conversation_id = made.json()[0]["id"]
        body = [{"fromPersonId": "S", "toPersonId": recipient, "conversationId": conversation_id}]
        await http.post("/privateMessages", json=body, headers=headers("S"))
        threads.append((conversation_id, recipient))
    return threads


async def subscribe(http: httpx.AsyncClient, recipient: str, port: int) -> None:
    subscription = BrowserKeys().subscription(f"https://127.0.0.1:{port}/push/{recipient}")
    answer = await http.post(
        "/webpush/subscribe", json={"subscription": subscription}, headers=headers(recipient)
    )
    assert answer.json()["success"], answer.text


async def run(posts: int, threads_n: int, push: bool, hole_port: int, ca: Path) -> dict[str, Any]:
    push_env = (
        {
            "VAPID_PRIVATE_KEY": VapidKeys.generate().private_key_b64,
            "SSL_CERT_FILE": str(ca),
            "PUSH_TIMEOUT": "30",
        }
        if push
        else {}
    )
    with tempfile.TemporaryDirectory() as tmp:
        process, http_port, socket_port = await start_node(Path(tmp), push_env)
        try:
            base = f"http://127.0.0.1:{http_port}/messaging"
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                threads = await open_threads(http, threads_n)
                if push:
                    for _, recipient in threads:
                        await subscribe(http, recipient, hole_port)
                async with websockets.connect(f"ws://127.0.0.1:{socket_port}") as ws:
                    await ws.send("getId")
                    socket_id = orjson.loads(await ws.recv())["data"]
                    joins = [
                        {"churchId": CHURCH, "conversationId": c, "socketId": socket_id}
                        for c, _ in threads
                    ]
                    await http.post("/connections", json=joins, headers=headers("S"))
                    latencies = await timed_posts(http, ws, threads, posts)
                metrics = (await http.get(f"http://127.0.0.1:{http_port}/metrics")).text
        finally:
            process.terminate()
            await process.wait()
    latencies.sort()
    return {
        "push": push,
        "posts": posts,
        "p50_ms": _pct(latencies, 0.50),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies),
        "queued_at_end": _metric(metrics, "steeple_push_queued"),
    }


async def timed_posts(
    http: httpx.AsyncClient, ws: Any, threads: list[tuple[str, str]], posts: int
) -> list[float]:
    latencies = []
    for n in range(posts):
        conversation_id, _ = threads[n % len(threads)]
        content = f"post {n}"
        started = time.perf_counter()
        answer = asyncio.create_task(
            http.post(
                "/messages",
                json=[{"conversationId": conversation_id, "content": content}],
                headers=headers("S"),
            )
        )
        while True:
            frame = orjson.loads(await ws.recv())
            if frame.get("action") == "message" and frame["data"].get("content") == content:
                break
        assert (await answer).status_code == 200
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _pct(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))]


def _metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        certificates = make_certificates(Path(tmp))
        hole = await black_hole(certificates.cert_file, certificates.key_file)
        port = int(hole.sockets[0].getsockname()[1])
        results = []
        try:
            for index in range(args.runs):
                for push in (False, True):
                    result = await run(args.posts, args.threads, push, port, certificates.ca_file)
                    result["run"] = index + 1
                    results.append(result)
                    print(
                        f"run {index + 1} push {'on ' if push else 'off'}: "
                        f"p50 {result['p50_ms']:.2f} ms  p95 {result['p95_ms']:.2f} ms  "
                        f"p99 {result['p99_ms']:.2f} ms  mean {result['mean_ms']:.2f} ms  "
                        f"queued at end {result['queued_at_end']}",
                        flush=True,
                    )
        finally:
            hole.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    results = uvloop.run(main_async(args))
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"push-path-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
