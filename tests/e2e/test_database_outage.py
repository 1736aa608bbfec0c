"""A database restart under a running node: 503 with ``Retry-After``, two log lines.

The node runs on a PostgreSQL server of the test's own, which the test stops and
starts again; the machine's shared server is never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from steeple.node import Node
from tests.support.nodes import node_settings
from tests.support.postgres_server import PostgresServer
from tests.support.steps import join, live_room, send, shows
from tests.support.wsclient import TestSocket

OUTAGE_LOGGER = "steeple.storage.outage"


@pytest.fixture
async def postgres() -> AsyncIterator[PostgresServer]:
    server = PostgresServer()
    server.create()
    await server.start()
    yield server
    await server.stop()
    server.remove()


@pytest.fixture
async def pg_node(postgres: PostgresServer) -> AsyncIterator[Node]:
    running = Node(node_settings(postgres.url))
    await running.start()
    yield running
    await running.stop()


class LogLine(logging.Handler):
    """Sets an event when the node logs a line containing ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


async def test_a_restart_answers_503_logs_once_and_recovers(
    postgres: PostgresServer, pg_node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    base = pg_node.http_url
    async with httpx.AsyncClient(base_url=base + "/messaging", timeout=10) as http:
        room = await live_room(http)
        viewer = await TestSocket.connect(pg_node.socket_url)
        await join(http, viewer, room, "Viewer")
        leaver = await TestSocket.connect(pg_node.socket_url)
        await join(http, leaver, room, "Leaver")
        await viewer.next("attendance", shows("Leaver", "Viewer"))
        viewer.frames.clear()  # earlier attendance frames must not answer the check below
        before = await send(http, room, "before")
        await viewer.next("message")

        await postgres.stop()
        await leaver.close()  # its rows cannot be deleted now; attendance must catch up
        answers = [
            await http.post(
                "/messages/send",
                json=[{"churchId": "CH1", "conversationId": room["id"], "content": f"lost {i}"}],
            )
            for i in range(20)
        ]
        assert {a.status_code for a in answers} == {503}
        assert answers[0].headers["Retry-After"] == "2"
        assert answers[0].json() == {"error": "the database is unreachable", "retryAfter": 2}
        health = await http.get(base + "/health")
        assert (health.status_code, health.json()["database"]) == (503, False)
        assert (await http.get(base + "/health/ready")).status_code == 503
        assert (await http.get(base + "/health/live")).status_code == 200
        assert "steeple_database_up 0.0" in (await http.get(base + "/metrics")).text

        back = LogLine("database back after")
        logging.getLogger(OUTAGE_LOGGER).addHandler(back)
        await postgres.start()
        await asyncio.wait_for(back.seen.wait(), 30)
        logging.getLogger(OUTAGE_LOGGER).removeHandler(back)
        after = await send(http, room, "after")
        assert (await http.get(base + "/health")).status_code == 200
        assert "steeple_database_up 1.0" in (await http.get(base + "/metrics")).text
        frame = await viewer.next("message")
        assert frame["data"]["id"] == after["id"]
        await viewer.next("attendance", shows("Viewer"), timeout=15)
        history = (await http.get(f"/messages/catchup/CH1/{room['id']}")).json()
        assert [m["id"] for m in history] == [before["id"], after["id"]]
        await viewer.close()

    outage_lines = [r for r in lines(caplog, logging.WARNING) if r.name == OUTAGE_LOGGER]
    assert [r.levelname for r in outage_lines] == ["ERROR", "WARNING"]
    assert not [r for r in lines(caplog, logging.ERROR) if r.exc_info], "no tracebacks"
