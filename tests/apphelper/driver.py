"""The published ChurchApps client, as a Node process the tests command and listen to.

``client.mjs`` runs the real ``@churchapps/apphelper`` code (installed from npm by
``make test-tools``; pinned in this folder's ``package-lock.json``). The test writes
commands to its stdin and waits for the JSON events it prints, so every step waits for
what the client saw, with a deadline instead of a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steeple.node import Node
from tests.support.services import missing

HERE = Path(__file__).parent
SCRIPT = HERE / "client.mjs"
INSTALLED = HERE / "node_modules" / "@churchapps" / "apphelper" / "package.json"
WAIT = 20.0
"""Seconds to wait for one event; the package's init alone waits 3 s after the open."""

Event = dict[str, Any]


NODE_AT_LEAST = (20, 6)
"""``module.register``, which loads the resolve hook, came with Node.js 20.6."""


def node_executable() -> str:
    """Node, recent enough, with the package installed; anything missing fails in CI,
    else skips."""
    executable = shutil.which("node")
    if executable is None or node_version(executable) < NODE_AT_LEAST:
        missing("the @churchapps/apphelper tests need Node.js >= 20.6 on the PATH")
    if not INSTALLED.exists():
        missing(f"@churchapps/apphelper is not installed in {HERE} (run `make test-tools`)")
    return executable


@functools.cache
def node_version(executable: str) -> tuple[int, ...]:
    answer = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    return tuple(int(part) for part in answer.stdout.strip().lstrip("v").split(".")[:2])


def installed_version() -> str:
    node_executable()
    return str(json.loads(INSTALLED.read_text())["version"])


class AppHelperClient:
    """One Node process: one app with one SocketHelper, as one browser tab."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.events: list[Event] = []
        self._taken: set[int] = set()
        self._arrived = asyncio.Condition()
        self._stderr = bytearray()
        self._reader = asyncio.create_task(self._read())
        self._err_reader = asyncio.create_task(self._read_stderr())

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> AppHelperClient:
        """``client.mjs`` with these arguments; ``env`` is added to this process's own."""
        process = await asyncio.create_subprocess_exec(
            node_executable(),
            str(SCRIPT),
            *args,
            cwd=HERE,
            env={**os.environ, **(env or {})},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        client = cls(process)
        await client.next("ready")
        return client

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            async with self._arrived:
                self.events.append(json.loads(line))
                self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def _read_stderr(self) -> None:
        """Kept (the package logs refusals with console.error) so the pipe never fills."""
        assert self._process.stderr is not None
        while chunk := await self._process.stderr.read(65536):
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        return self._stderr.decode(errors="replace")

    async def do(self, command: str, **fields: Any) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps({"do": command, **fields}) + "\n").encode())
        await self._process.stdin.drain()

    async def next(
        self, event: str, where: Callable[[Event], bool] | None = None, timeout: float = WAIT
    ) -> Event:
        """The first event of this kind (matching ``where``) not yet returned.

        A ``failed`` event (a command that threw) ends the wait with its message.
        """

        async def find() -> Event:
            async with self._arrived:
                while (found := self._take(event, where)) is None:
                    if self._reader.done():
                        raise AssertionError(f"client exited awaiting {event}: {self.stderr}")
                    await self._arrived.wait()
                return found

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {event} from the client; it saw {self.events}") from None

    def _take(self, event: str, where: Callable[[Event], bool] | None) -> Event | None:
        for index, seen in enumerate(self.events):
            if index in self._taken:
                continue
            if seen["event"] == "failed":
                raise AssertionError(f"client command failed: {seen}")
            if seen["event"] == event and (where is None or where(seen)):
                self._taken.add(index)
                return seen
        return None

    def forget(self) -> None:
        """Later waits look only at events from now on."""
        self._taken.update(range(len(self.events)))

    def seen(self, event: str) -> list[Event]:
        return [e for e in self.events if e["event"] == event]

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.do("exit")
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        await asyncio.gather(self._reader, self._err_reader)


class StartClient:
    """Starts clients for one test and stops them after it."""

    def __init__(self) -> None:
        self.started: list[AppHelperClient] = []

    async def __call__(self, node: Node) -> AppHelperClient:
        """A client configured with that node's two URLs."""
        return await self._start(node.http_url + "/messaging", node.socket_url)

    async def from_environment(self, stage: str, env: dict[str, str]) -> AppHelperClient:
        """A client whose URLs the package's CommonEnvironmentHelper.init(stage) reads
        from the apps' environment variables."""
        return await self._start("--stage", stage, env=env)

    async def _start(self, *args: str, env: dict[str, str] | None = None) -> AppHelperClient:
        client = await AppHelperClient.start(*args, env=env)
        self.started.append(client)
        return client

    async def close_all(self) -> None:
        for client in self.started:
            await client.close()
