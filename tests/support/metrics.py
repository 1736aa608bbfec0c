"""A node's ``/metrics``, read as a test reads them."""

from __future__ import annotations

import httpx

from steeple.node import Node


async def metrics(node: Node, prefix: str) -> dict[str, float]:
    """Every sample whose name starts with ``prefix``, by name (labels included)."""
    async with httpx.AsyncClient(base_url=node.http_url) as client:
        text = (await client.get("/metrics")).text
    return {
        name: float(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if name.startswith(prefix)
    }
