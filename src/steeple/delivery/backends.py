"""The delivery backends by name: the one place ``DELIVERY_PROVIDER`` is looked up.

Settings check the name against :data:`BACKENDS`, the CLI offers its keys, and the
node builds its backend through :func:`create_delivery`. A new backend is one entry
here. The redis and aws backends are imported only when chosen (boto3 is the
optional ``[aws]`` extra).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from steeple.delivery.base import Delivery
from steeple.delivery.local import LocalDelivery
from steeple.errors import ConfigError
from steeple.hub import Hub

if TYPE_CHECKING:  # both import this module's importers; only their types are needed
    from steeple.settings import Settings
    from steeple.storage.store import Store


@dataclass(frozen=True)
class Wiring:
    """What a backend may need of the node that runs it.

    ``socket_gone(socket_id)`` is called by a backend that learns a socket no longer
    exists (AWS: a 410 from API Gateway), so its rows and attendance are corrected.
    ``sweep_stale()`` is called by a backend that learns a peer node died (redis).
    """

    hub: Hub
    store: Store
    socket_gone: Callable[[str], Awaitable[None]] | None = None
    sweep_stale: Callable[[], Awaitable[object]] | None = None


Factory = Callable[["Settings", Wiring], Delivery]


def _local(settings: Settings, wiring: Wiring) -> Delivery:
    return LocalDelivery(wiring.hub)


def _redis(settings: Settings, wiring: Wiring) -> Delivery:
    from steeple.delivery.redis import RedisDelivery

    return RedisDelivery.from_settings(settings, wiring.hub, wiring.sweep_stale)


def _aws(settings: Settings, wiring: Wiring) -> Delivery:
    from steeple.delivery.aws import AwsDelivery

    return AwsDelivery.from_settings(settings, wiring.store.connections, wiring.socket_gone)


BACKENDS: dict[str, Factory] = {"local": _local, "redis": _redis, "aws": _aws}
"""``DELIVERY_PROVIDER`` -> the factory of its backend; the first is the default."""

DEFAULT_BACKEND = next(iter(BACKENDS))


def create_delivery(settings: Settings, wiring: Wiring) -> Delivery:
    """Pick the delivery backend once, at start-up."""
    factory = BACKENDS.get(settings.delivery_provider)
    if factory is None:
        raise ConfigError(f"DELIVERY_PROVIDER={settings.delivery_provider} is not available")
    return factory(settings, wiring)
