"""Host chat: the encrypted room id a host's client uses to find a service's host room.

``GET /content/streamingServices/:id/hostChat`` hands a ``Chat__Host`` caller
``encrypt(serviceId)`` (PROTOCOL.md 5.4); the client then asks for
``/conversations/current/:churchId/streamingLiveHost/<room>``, where
:meth:`ConversationService.current` decrypts it. Each call encrypts under a fresh IV,
so two hosts get different room strings that lead to the same conversation.
"""

from __future__ import annotations

from steeple.auth.principal import CHAT_HOST, Principal
from steeple.services.context import Context
from steeple.types import ID_LENGTH
from steeple.validation import path_id


class HostChatService:
    def __init__(self, ctx: Context) -> None:
        self._cipher = ctx.cipher

    def room(self, principal: Principal, service_id: str) -> dict[str, str]:
        """``{"room": <encrypted id>}`` for a host, ``{"room": ""}`` for anyone else.

        The service's church is not known here (services live in the content API);
        the room only opens in the caller's own church, where ``current`` checks
        ``Chat__Host`` again.
        """
        path_id(service_id, "id", ID_LENGTH)
        if not principal.can(CHAT_HOST):
            return {"room": ""}
        return {"room": self._cipher.encrypt(service_id)}
