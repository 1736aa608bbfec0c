"""Join-storm benchmark: thousands of anonymous viewers join one live room, one by one.

Each viewer opens a socket, learns its socketId, asks for the current live room
(``GET /conversations/current/...``) and joins it alone (``POST /connections`` with
the legacy ``"Anonymous "`` name), as a B1 live-stream page does. ``--concurrency``
viewers join at once. Reported: joins per second, the time until every socket's
attendance says N, and what the storm cost in frames and bytes received by all
sockets (attendance and blockedIp are coalesced per room, so this grows far slower
than N squared).

    .venv/bin/python bench/joins.py --viewers 1000,5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from fanout import (
    CHURCH_ID,
    RESULTS_DIR,
    SERVICE_ID,
    Counters,
    HttpClient,
    open_sockets,
    pin_generator,
    raise_fd_limit,
    start_server,
    stop_server,
    wait_healthy,
    wait_quiet,
)

CURRENT = f"/messaging/conversations/current/{CHURCH_ID}/streamingLive/{SERVICE_ID}"


async def join_one_by_one(port: int, socket_ids: list[str], concurrency: int) -> None:
    todo = iter(socket_ids)

    async def viewer_client() -> None:
        client = HttpClient("127.0.0.1", port)
        try:
            for socket_id in todo:
                room = (await client.get(CURRENT))["id"]
                body = [
                    {
                        "churchId": CHURCH_ID,
                        "conversationId": room,
                        "socketId": socket_id,
                        "displayName": "Anonymous ",
                    }
                ]
                await client.post("/messaging/connections", body)
        finally:
            client.close()

    await asyncio.gather(*(viewer_client() for _ in range(concurrency)))


async def storm(viewers: int, concurrency: int, core: int | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server("steeple", core, Path(tmp))
        client = HttpClient("127.0.0.1", server.http_port)
        try:
            await wait_healthy(server, client, 30)
            counters = Counters()
            sockets = await open_sockets(server.ws_url, viewers, counters, 200)
            ids = [listener.socket_id.result() for _, listener in sockets]
            counters.reset()
            started = time.perf_counter()
            await join_one_by_one(server.http_port, ids, concurrency)
            joined = time.perf_counter() - started
            await wait_quiet(counters, 2 * 0.25 * max(1, viewers / 250), 120)
            return {
                "viewers": viewers,
                "joins_per_s": viewers / joined,
                "join_s": joined,
                "frames": counters.other,
                "frames_per_join": counters.other / viewers,
                "mib": counters.other_bytes / 2**20,
            }
        finally:
            client.close()
            stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1000,5000")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args(argv)
    counts = [int(v) for v in args.viewers.split(",")]
    raise_fd_limit(max(counts) * 2 + 1000)
    core = pin_generator(args.no_pin)
    results = [uvloop.run(storm(n, args.concurrency, core)) for n in counts]
    print(
        f"{'viewers':>8} {'joins/s':>9} {'join s':>7} {'frames':>9} {'frames/join':>11} {'MiB':>8}"
    )
    for r in results:
        print(
            f"{r['viewers']:>8.0f} {r['joins_per_s']:>9,.0f} {r['join_s']:>7.1f} "
            f"{r['frames']:>9,.0f} {r['frames_per_join']:>11.1f} {r['mib']:>8.1f}"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"joins-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
