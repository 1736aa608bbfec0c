"""The HAProxy configuration shipped in deploy/haproxy, in front of three real nodes.

The file is used as written, with only its port numbers replaced by free ones. Skipped
when HAProxy is not installed (it is a deployment tool, not a service the tests need).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.processes import ChildProcess, free_port, spawn
from tests.support.services import missing
from tests.support.steps import join, live_room, send
from tests.support.wsclient import TestSocket

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
FRONT_PORTS = {"8084": "rest", "8087": "ws"}
NODE_PORTS = ["9084", "9087", "9184", "9187", "9284", "9287"]


class Proxy:
    def __init__(self, child: ChildProcess, rest_port: int, ws_port: int) -> None:
        self.child = child
        self.rest_url = f"http://127.0.0.1:{rest_port}"
        self.ws_url = f"ws://127.0.0.1:{ws_port}"


def configured(text: str, ports: dict[str, int]) -> str:
    return re.sub(r"(?<=:)(\d{4})\b", lambda m: str(ports.get(m.group(1), m.group(1))), text)


@pytest.fixture
async def proxy(cluster: Cluster, tmp_path: Path) -> AsyncIterator[Proxy]:
    binary = shutil.which("haproxy")
    if binary is None:
        missing("haproxy is not installed (apt-get install haproxy, or make test-tools)")
    ports = {port: free_port() for port in [*FRONT_PORTS, *NODE_PORTS]}
    for index in range(3):
        rest, ws = NODE_PORTS[2 * index : 2 * index + 2]
        await cluster.start(
            1, port=ports[rest], socket_port=ports[ws], trusted_proxies=("127.0.0.1",)
        )
    config = tmp_path / "haproxy.cfg"
    config.write_text(configured(CONFIG.read_text(), ports))
    child = await spawn(binary, "-db", "-f", str(config))
    running = Proxy(child, ports["8084"], ports["8087"])
    await wait_until_all_nodes_are_up(running)
    yield running
    await child.stop()


async def wait_until_all_nodes_are_up(proxy: Proxy) -> None:
    """Each REST call is balanced; three answers from three different nodes prove it."""
    async with httpx.AsyncClient(base_url=proxy.rest_url, timeout=5) as client:
        for _ in range(200):  # an external process: no event to wait for, so poll
            try:
                nodes = {(await client.get("/health")).json()["delivery"]["node"] for _ in range(6)}
                if len(nodes) == 3:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(
        "haproxy never balanced over three nodes:\n" + "\n".join(proxy.child.output)
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_three_nodes_behind_haproxy_chat_through_one_address(proxy: Proxy) -> None:
    async with httpx.AsyncClient(base_url=proxy.rest_url + "/messaging", timeout=10) as http:
        room = await live_room(http)
        viewers = [await TestSocket.connect(proxy.ws_url) for _ in range(3)]
        upgraded = await TestSocket.connect(proxy.rest_url.replace("http", "ws"))
        try:
            for index, socket in enumerate([*viewers, upgraded]):
                await join(http, socket, room, f"Viewer {index}")
            await send(http, room, "hello everyone")
            for socket in [*viewers, upgraded]:
                message = await socket.next("message")
                assert message["data"]["content"] == "hello everyone"
                await socket.next("attendance", lambda f: f["data"]["totalViewers"] == 4)
        finally:
            for socket in [*viewers, upgraded]:
                await socket.close()
