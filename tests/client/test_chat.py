"""``steeple chat`` end to end: real processes, real pipes, a real node restarted."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from steeple.node import Node
from tests.client.test_restart import post_elsewhere
from tests.support.client_nodes import Restartable

MESSAGE = re.compile(r"^\d\d:\d\d:\d\d (?P<name>[^:]+): (?P<content>.*)$")


class Chat:
    """One ``steeple chat`` process; ``await until(pred)`` waits for an output line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, node: Node, name: str) -> Chat:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "steeple.cli",
            "chat",
            "--url",
            node.http_url,
            "--socket-url",
            node.socket_url,
            "--church",
            "CH1",
            "--room",
            "streamingLive:svc1",
            "--name",
            name,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode().rstrip("\n"))
            self._arrived.set()
        self._arrived.set()

    async def until(self, predicate: Callable[[str], bool], timeout: float = 15.0) -> str:
        async def find() -> str:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self._reader.done():
                    raise AssertionError(f"chat ended: {self.lines} {await self.errors()}")
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"no such line in {self.lines}") from None

    async def said(self, name: str, content: str) -> str:
        return await self.until(lambda line: line.endswith(f" {name}: {content}"))

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    def messages(self) -> list[tuple[str, str]]:
        found = (MESSAGE.match(line) for line in self.lines)
        return [(m["name"], m["content"]) for m in found if m]

    async def errors(self) -> str:
        assert self.process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.process.stderr.read(), 2)).decode()
        return ""

    async def quit(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = await asyncio.wait_for(self.process.wait(), 15)
        await self._reader
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@pytest.fixture
async def chats() -> AsyncIterator[list[Chat]]:
    started: list[Chat] = []
    yield started
    for chat in started:
        chat.kill()
        await chat.process.wait()


def watching(count: int) -> Callable[[str], bool]:
    return lambda line: line == f"* {count} watching"


async def test_two_terminals_chat_across_a_server_restart(
    restartable: Restartable, chats: list[Any]
) -> None:
    node = restartable.node
    assert node is not None
    ann = await Chat.start(node, "Ann")
    chats.append(ann)
    await ann.until(lambda line: line.startswith("* joined streamingLive #svc1"))
    ann.type("hello from ann")
    await ann.said("Ann", "hello from ann")

    bob = await Chat.start(node, "Bob")
    chats.append(bob)
    await bob.said("Ann", "hello from ann")  # history
    await ann.until(watching(2))
    bob.type("hi ann")
    await ann.said("Bob", "hi ann")

    await restartable.stop()
    await ann.until(lambda line: line == "* connection lost; reconnecting")
    ann.type("typed while the server was down")
    await ann.until(lambda line: line.startswith("* offline"))
    await post_elsewhere(restartable.settings, private=False)  # said while Bob was away
    await restartable.start()

    for chat in (ann, bob):
        await chat.until(lambda line: line == "* reconnected")
        await chat.said("Ann", "typed while the server was down")
        await chat.said("Bob", "missed two")
    bob.type("welcome back")
    await ann.said("Bob", "welcome back")
    await bob.said("Bob", "welcome back")

    assert await ann.quit() == 0 and await bob.quit() == 0
    expected = [
        ("Ann", "hello from ann"),
        ("Bob", "hi ann"),
        ("Ann", "typed while the server was down"),
        ("Bob", "missed one"),
        ("Bob", "missed two"),
        ("Bob", "welcome back"),
    ]
    for chat in (ann, bob):
        assert sorted(chat.messages()) == sorted(expected), chat.lines  # each exactly once
