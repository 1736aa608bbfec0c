"""Child processes the cluster tests start and kill: a ``steeple serve`` node and a
private ``redis-server`` (so stopping it never disturbs the shared Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest

SERVE_READY = re.compile(r"steeple: HTTP (\S+)/messaging, sockets (\S+),")
STEEPLE = Path(sys.executable).parent / "steeple"


class ChildProcess:
    """A subprocess whose output is read (and kept) until it exits."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            self._lines.put_nowait(line)

    async def wait_for_line(self, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        async def find() -> re.Match[str]:
            while True:
                match = pattern.search(await self._lines.get())
                if match:
                    return match

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError("child never got ready:\n" + "\n".join(self.output)) from None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 10)
        self.kill()
        await self.process.wait()
        await self._reader


async def spawn(*argv: str, env: dict[str, str] | None = None) -> ChildProcess:
    process = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return ChildProcess(process)


class ServedNode:
    """``steeple serve`` on ports chosen by the OS."""

    def __init__(self, child: ChildProcess, http_url: str, socket_url: str) -> None:
        self.child = child
        self.http_url = http_url
        self.socket_url = socket_url

    @classmethod
    async def start(cls, env: dict[str, str]) -> ServedNode:
        command = [str(STEEPLE)] if STEEPLE.exists() else [sys.executable, "-m", "steeple.cli"]
        child = await spawn(
            *command, "serve", "--host", "127.0.0.1", "--port", "0", "--socket-port", "0", env=env
        )
        ready = await child.wait_for_line(SERVE_READY)
        return cls(child, ready.group(1), ready.group(2))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A throw-away redis-server on its own port, with persistence off."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._child: ChildProcess | None = None

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self._child = await spawn(
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        )
        await self._child.wait_for_line(re.compile("Ready to accept connections"))

    async def stop(self) -> None:
        if self._child is not None:
            await self._child.stop()
            self._child = None
