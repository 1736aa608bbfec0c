"""A small REST client over httpx for the routes the client primitives need.

Every failure becomes a :mod:`steeple.client.errors` exception, so callers handle one
hierarchy instead of httpx's, and a 401 (ChurchApps' ``{}`` denial) is an exception,
not an empty result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from steeple.client.errors import ConnectFailed, ProtocolError, TransportError, api_error
from steeple.client.models import Counts, Message, RoomSettings

log = logging.getLogger(__name__)

Json = Any


def messaging_base(url: str) -> str:
    """``http://host:8084`` or ``http://host:8084/messaging`` -> the messaging REST base."""
    url = url.rstrip("/")
    return url if url.endswith("/messaging") else url + "/messaging"


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(s, safe="") for s in segments)


class RestClient:
    """Calls ``<base>/messaging/...`` with an optional bearer token.

    Give it an ``httpx.AsyncClient`` to share a connection pool; otherwise it owns one
    and closes it in :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = messaging_base(base_url)
        self.token = token or None
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def request(
        self, method: str, path: str, body: Json = None, params: Mapping[str, str] | None = None
    ) -> Json:
        """One call; the decoded JSON answer, or a typed exception."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        content = None if body is None else json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method, self.base_url + path, content=content, params=params, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectFailed(f"{method} {path}: {exc or type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {path}: {exc or type(exc).__name__}") from exc
        return _decode(response, method, path)

    # --- room membership -------------------------------------------------------------

    async def join(self, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return list(await self.request("POST", "/connections", list(entries)))

    async def leave(self, church_id: str, conversation_id: str, socket_id: str) -> None:
        await self.request("DELETE", _path("connections", church_id, conversation_id, socket_id))

    async def connections(self, church_id: str, conversation_id: str) -> list[dict[str, Any]]:
        return list(await self.request("GET", _path("connections", church_id, conversation_id)))

    async def set_name(self, socket_id: str, name: str) -> list[dict[str, Any]]:
        body = {"socketId": socket_id, "name": name}
        return list(await self.request("POST", "/connections/setName", body))

    # --- conversations and messages ------------------------------------------------------

    async def current_conversation(
        self, church_id: str, content_type: str, content_id: str
    ) -> dict[str, Any]:
        path = _path("conversations", "current", church_id, content_type, content_id)
        return dict(await self.request("GET", path))

    async def conversation(self, church_id: str, conversation_id: str) -> dict[str, Any]:
        return dict(await self.request("GET", _path("conversations", church_id, conversation_id)))

    async def room_settings(self, church_id: str, conversation_id: str) -> RoomSettings:
        path = _path("conversations", church_id, conversation_id, "settings")
        return RoomSettings.from_json(await self.request("GET", path), conversation_id)

    async def set_slow_mode(
        self, church_id: str, conversation_id: str, seconds: int
    ) -> RoomSettings:
        """A host's change (0 = off); the room gets a ``roomSettings`` frame."""
        path = _path("conversations", church_id, conversation_id, "settings")
        body = {"slowModeSeconds": seconds}
        return RoomSettings.from_json(await self.request("POST", path, body), conversation_id)

    async def catchup(
        self, church_id: str, conversation_id: str, after: str | None = None
    ) -> list[Message]:
        """One page of history, oldest first: the newest messages, or with ``after`` the
        ones following that message. The node caps a page at its ``HISTORY_LIMIT``;
        :meth:`catchup_pages` follows the pages to the end."""
        params = {"after": after} if after else None
        path = _path("messages", "catchup", church_id, conversation_id)
        return [Message.from_json(m) for m in await self.request("GET", path, params=params)]

    async def catchup_pages(
        self, church_id: str, conversation_id: str, after: str | None
    ) -> AsyncIterator[list[Message]]:
        """Every message after ``after`` (``None``: from the first), a page at a time.

        A client cannot tell a full page from a short one without knowing the node's
        ``HISTORY_LIMIT``, so it asks until a page comes back empty: one small request
        more, and right whatever the limit. A node that ignores ``after`` (upstream)
        answers the same page again, which ends the walk instead of looping on it.
        """
        # An id that names no message pages from the first one (PROTOCOL 5.6); the
        # conversation's own id is never a message's.
        cursor = after or conversation_id
        while page := await self.catchup(church_id, conversation_id, cursor):
            if page[-1].id == cursor:
                return
            yield page
            cursor = page[-1].id

    async def conversation_messages(
        self, conversation_id: str, after: str | None = None
    ) -> list[Message]:
        """One page of a conversation of the signed-in person's church (as :meth:`catchup`)."""
        params = {"after": after} if after else None
        path = _path("messages", "conversation", conversation_id)
        return [Message.from_json(m) for m in await self.request("GET", path, params=params)]

    async def send_message(
        self, church_id: str, conversation_id: str, content: str, display_name: str = ""
    ) -> Message:
        """``POST /messages/send``: anonymous where the room allows it, else as the token."""
        entry = {
            "churchId": church_id,
            "conversationId": conversation_id,
            "content": content,
            "displayName": display_name,
        }
        saved = await self.request("POST", "/messages/send", [entry])
        return Message.from_json(saved[0])

    async def delete_message(self, message_id: str) -> None:
        await self.request("DELETE", _path("messages", message_id))

    # --- notifications ---------------------------------------------------------------------

    async def unread_count(self) -> Counts:
        return Counts.from_json(await self.request("GET", "/notifications/unreadCount"))


def _decode(response: httpx.Response, method: str, path: str) -> Json:
    try:
        body = response.json() if response.content else None
    except ValueError:
        if response.is_success:
            raise ProtocolError(f"{method} {path}: answer is not JSON") from None
        body = response.text
    if response.is_success:
        return body
    raise api_error(response.status_code, body, method, path, response.headers.get("retry-after"))
