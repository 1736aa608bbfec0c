"""One registry of delivery backends: what settings accept, the CLI offers and the node
builds, and each backend's frame limit, checked before anything is committed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from steeple.cli import build_parser
from steeple.delivery.aws import MAX_MESSAGE_BYTES, AwsDelivery
from steeple.delivery.backends import BACKENDS, DEFAULT_BACKEND, Wiring, create_delivery
from steeple.delivery.base import FrameTooLarge
from steeple.delivery.local import LocalDelivery
from steeple.errors import ConfigError
from steeple.hub import Hub
from steeple.protocol.frames import Action
from steeple.protocol.outbound import Outbound
from steeple.storage.store import Store
from tests.support.nodes import node_settings
from tests.support.sockets import RecordingSocket


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    opened = Store.open(sqlite_url)
    yield opened
    await opened.close()


ROOM = ("CH1", "conv1")


def _frame(size: int) -> Outbound:
    return Outbound.of("CH1", "conv1", Action.MESSAGE, {"content": "x" * size})


def test_the_registry_names_the_three_backends_and_local_is_the_default() -> None:
    assert list(BACKENDS) == ["local", "redis", "aws"]
    assert DEFAULT_BACKEND == "local"


def test_settings_refuse_a_name_the_registry_does_not_hold(sqlite_url: str) -> None:
    with pytest.raises(ConfigError, match="one of local, redis, aws, not 'nats'"):
        node_settings(sqlite_url, delivery_provider="nats")


def test_the_cli_offers_exactly_the_registrys_names(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    for name in BACKENDS:
        assert parser.parse_args(["serve", "--delivery-provider", name]).delivery_provider == name
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--delivery-provider", "nats"])
    assert "invalid choice: 'nats'" in capsys.readouterr().err


async def test_the_local_backend_delivers_through_the_nodes_hub(
    sqlite_url: str, store: Store
) -> None:
    hub = Hub()
    ann = RecordingSocket("ann")
    hub.add(ann)
    delivery = create_delivery(node_settings(sqlite_url), Wiring(hub, store))
    assert isinstance(delivery, LocalDelivery)
    assert await delivery.join(ROOM, "no-such-socket") is False
    assert await delivery.join(ROOM, "ann") is True
    frame = _frame(10)
    await delivery.publish(ROOM, frame)
    await ann.payloads(1)
    assert ann.frames == [frame]


async def test_the_local_backend_has_no_frame_limit(sqlite_url: str, store: Store) -> None:
    delivery = create_delivery(node_settings(sqlite_url), Wiring(Hub(), store))
    delivery.check_frame(_frame(4 * MAX_MESSAGE_BYTES))  # refuses nothing


async def test_the_aws_backend_refuses_a_frame_over_api_gateways_limit(
    sqlite_url: str, store: Store
) -> None:
    settings = node_settings(
        sqlite_url, delivery_provider="aws", aws_endpoint_url="http://127.0.0.1:9"
    )
    delivery = create_delivery(settings, Wiring(Hub(), store))
    try:
        assert isinstance(delivery, AwsDelivery)
        assert delivery.max_frame_bytes == MAX_MESSAGE_BYTES
        delivery.check_frame(_frame(MAX_MESSAGE_BYTES - 200))
        with pytest.raises(FrameTooLarge, match=f"API Gateway's {MAX_MESSAGE_BYTES}-byte"):
            delivery.check_frame(_frame(MAX_MESSAGE_BYTES))
        assert FrameTooLarge.status == 413
    finally:
        await delivery.stop()
