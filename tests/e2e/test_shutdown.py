"""``steeple serve`` as a real process: SIGTERM closes sockets with 1001 and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from steeple.hub import GOING_AWAY
from tests.support.nodes import ENCRYPTION_KEY, JWT_SECRET
from tests.support.steps import join, live_room
from tests.support.wsclient import TestSocket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_until_serving(process: asyncio.subprocess.Process) -> str:
    """Read the log until the start-up line; return everything read."""
    assert process.stderr is not None
    seen = b""
    while b"steeple: HTTP" not in seen:
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        assert line, f"steeple serve exited early:\n{seen.decode()}"
        seen += line
    return seen.decode()


async def test_sigterm_closes_sockets_with_1001_and_exits_0(tmp_path: Path) -> None:
    http_port, socket_port = free_port(), free_port()
    env = {**os.environ, "JWT_SECRET": JWT_SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "steeple.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(http_port),
        "--socket-port",
        str(socket_port),
        "--database-url",
        f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        log = await _wait_until_serving(process)
        assert "generated development secret" not in log
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
            assert (await client.get("/health")).status_code == 200
            client.base_url = httpx.URL(f"http://127.0.0.1:{http_port}/messaging")
            viewer = await TestSocket.connect(f"ws://127.0.0.1:{socket_port}")
            await join(client, viewer, await live_room(client), "Viewer")
            await viewer.next("attendance")
        process.send_signal(signal.SIGTERM)
        assert await viewer.closed(timeout=15) == GOING_AWAY
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
