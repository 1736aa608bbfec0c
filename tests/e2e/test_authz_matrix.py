"""The authorization matrix: every caller x room kind x route, against ``authz_table``.

One node per database kind serves the whole module (building the rooms, threads and
sockets once keeps ~1,600 cells per database fast); each cell is its own test id,
``<kind>-<route>-<caller>``. A cell fails when the server allows what the table
refuses or refuses what it allows, when a refusal is not a clean 401, when a refused
write left a trace or an allowed one did not happen, or when any response shows a
caller a secret of a room it may not read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from steeple.node import Node
from tests.e2e import authz_world
from tests.e2e.authz_probes import PROBES
from tests.e2e.authz_table import CALLERS, cells, expected
from tests.e2e.authz_world import World
from tests.support.nodes import create_postgres, drop_postgres, node_settings
from tests.support.services import require

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    if request.param == "postgres":
        require("PostgreSQL", "127.0.0.1", 5432)
        database_url = await create_postgres()
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('authz') / 'steeple.db'}"
    node = Node(node_settings(database_url))
    await node.start()
    built = await authz_world.build(node)
    yield built
    await authz_world.close(built)
    await node.stop()
    if request.param == "postgres":
        await drop_postgres(database_url)


@pytest.mark.parametrize(("kind", "route", "caller"), cells(), ids=["-".join(c) for c in cells()])
async def test_cell(world: World, kind: str, route: str, caller: str) -> None:
    observed = await PROBES[route](world, CALLERS[caller], kind)
    want = expected(route, kind, caller)
    if want is not None:
        verb = {True: "allow", False: "refuse"}
        assert observed == want, (
            f"{route} on the {kind} room by {caller}: PROTOCOL section 5 says "
            f"{verb[want]}, the server did {verb[observed]}"
        )


async def test_attendance_frames_never_carry_socket_ids(world: World) -> None:
    """After every cell: what each room's resident heard about its viewers."""
    frames = [
        frame
        for socket in (*world.resident.values(), *world.socket.values())
        for frame in socket.frames
        if frame["action"] == "attendance"
    ]
    assert frames, "no attendance frame arrived at all"
    ids = {s.socket_id for s in (*world.resident.values(), *world.socket.values())}
    for frame in frames:
        for viewer in frame["data"]["viewers"]:
            assert "socketId" not in viewer and viewer["id"] not in ids, viewer
        assert not any(socket_id in str(frame) for socket_id in ids), frame
