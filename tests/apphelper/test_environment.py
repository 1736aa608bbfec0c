"""Pointing the apps at Steeple through their environment variables, as read by the
package's own CommonEnvironmentHelper (the names the README's compatibility section
gives)."""

from __future__ import annotations

import pytest

from steeple.node import Node
from tests.apphelper.driver import StartClient

BASES = ("REACT_APP_API_BASE", "NEXT_PUBLIC_API_BASE", "EXPO_PUBLIC_API_BASE")
SOCKETS = ("REACT_APP_MESSAGING_API_SOCKET", "NEXT_PUBLIC_MESSAGING_API_SOCKET")


def environment(base_name: str, base: str, socket_name: str, socket: str) -> dict[str, str]:
    """Only the named variables set; the others empty, whatever this process has."""
    env = dict.fromkeys(BASES + SOCKETS, "")
    env.update({base_name: base, socket_name: socket})
    return env


@pytest.mark.parametrize(
    ("app", "stage", "base_name", "socket_name"),
    [
        # The stage their Dockerfiles and docker-compose build with ("custom"), and none.
        ("B1App", "custom", "NEXT_PUBLIC_API_BASE", "NEXT_PUBLIC_MESSAGING_API_SOCKET"),
        ("B1Admin", "custom", "REACT_APP_API_BASE", "REACT_APP_MESSAGING_API_SOCKET"),
        ("B1App, no stage", "", "NEXT_PUBLIC_API_BASE", "NEXT_PUBLIC_MESSAGING_API_SOCKET"),
    ],
)
async def test_the_api_base_and_socket_variables_reach_a_node(
    node: Node, start_client: StartClient, app: str, stage: str, base_name: str, socket_name: str
) -> None:
    env = environment(base_name, node.http_url + "/", socket_name, node.socket_url)
    client = await start_client.from_environment(stage, env)
    ready = client.seen("ready")[0]
    assert ready["messagingApi"] == node.http_url + "/messaging", app
    assert ready["socketUrl"] == node.socket_url, app
    await client.do("connect")
    await client.next("connected")
    await client.do("joinLive", churchId="CH1", serviceId="svc1", displayName="Env Viewer")
    assert (await client.next("joined"))["connections"][0]["displayName"] == "Env Viewer"


@pytest.mark.parametrize(
    ("stage", "messaging_api"),
    [
        ("demo", "https://api.demo.churchapps.org/messaging"),
        ("staging", "https://api.staging.churchapps.org/messaging"),
        ("prod", "https://api.churchapps.org/messaging"),
    ],
)
async def test_a_named_stage_ignores_the_variables(
    node: Node, start_client: StartClient, stage: str, messaging_api: str
) -> None:
    """Only a stage other than these (none, ``dev``, ``custom``) reads them: B1Admin's
    sample ``.env`` sets ``REACT_APP_STAGE=demo``, which keeps it on ChurchApps' servers."""
    env = environment(
        "REACT_APP_API_BASE", node.http_url, "REACT_APP_MESSAGING_API_SOCKET", node.socket_url
    )
    client = await start_client.from_environment(stage, env)
    ready = client.seen("ready")[0]
    assert ready["messagingApi"] == messaging_api
    assert ready["socketUrl"].startswith("wss://socket.") and node.socket_url not in ready.values()
