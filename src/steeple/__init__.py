"""Steeple: a real-time messaging server for church apps, a drop-in for ChurchApps' API.

Public API: :class:`Settings` (configuration), :class:`Node` (one server process:
``await Node(settings).start()``; its ``app`` is the ASGI app) and the asyncio client
in :mod:`steeple.client`. The server parts load on first use, so
``import steeple.client`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__all__ = ["Node", "Settings", "__version__"]

_LAZY = {"Node": "steeple.node", "Settings": "steeple.settings"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'steeple' has no attribute {name!r}")
