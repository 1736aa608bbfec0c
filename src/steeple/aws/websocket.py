"""The WebSocket function: ``$connect``, ``$disconnect`` and ``$default`` of the API.

* ``$connect``: accept; nothing is sent (the client asks with ``getId``).
* ``$default``: any text from the client is answered with the socketId frame, whose
  data is the API Gateway connectionId, posted back to that connection (the rule is
  :class:`~steeple.socket_policy.SocketPolicy`'s; API Gateway queues the frames).
* ``$disconnect``: the connection's rows are deleted and its rooms' attendance sent.

A scheduled event (EventBridge) runs the stale-row sweep instead: rows whose
connection API Gateway no longer knows are removed, in case a ``$disconnect`` was
never delivered.
"""

from __future__ import annotations

import logging
from typing import Any

from steeple.aws.runtime import LambdaRuntime
from steeple.socket_policy import SocketPolicy

log = logging.getLogger(__name__)

OK = {"statusCode": 200}


class WebSocketFunction:
    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime
        self._connections = runtime.node.services.connections

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("source") == "aws.events":
            return {"removed": self._runtime.run(self._connections.sweep_stale())}
        request = event.get("requestContext") or {}
        connection_id = request.get("connectionId")
        if not isinstance(connection_id, str) or not connection_id:
            log.warning("not an API Gateway WebSocket event: %s", sorted(event))
            return {"statusCode": 400, "body": "not an API Gateway WebSocket event"}
        route = request.get("routeKey")
        if route == "$connect":
            return OK
        if route == "$disconnect":
            self._runtime.run(self._connections.forget_socket(connection_id))
            return OK
        self._runtime.run(self._answer(connection_id))
        return OK

    async def _answer(self, connection_id: str) -> None:
        answer = SocketPolicy(connection_id).message_received()
        await self._runtime.delivery.send(connection_id, answer)
