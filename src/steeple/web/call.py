"""One HTTP request as route handlers see it: principal, path params, query, body, address.

A body counts only when it is declared JSON. A browser sends a cross-site form, or a
``text/plain`` fetch, without asking the server first (no CORS preflight), so any web
page could make its visitors' browsers post to the chat. A JSON content type makes
the browser ask first, and only origins ``CORS_ORIGINS`` allows get to send.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from steeple.auth.principal import Principal
from steeple.errors import BadRequest, ConfigError, PayloadTooLarge, UnsupportedMediaType
from steeple.types import ID_LENGTH
from steeple.validation import path_id

MAX_BODY = 256 * 1024
_UNSET = object()


@dataclass
class Call:
    method: str
    principal: Principal
    params: dict[str, str]
    query_string: bytes
    address: str
    body: bytes = b""
    content_type: str = ""
    _json: Any = field(default=_UNSET, repr=False)

    def query(self, name: str) -> str | None:
        values = parse_qs(self.query_string.decode("latin-1")).get(name)
        return values[0] if values else None

    def path_id(self, name: str, max_length: int = 64) -> str:
        """The path parameter ``name``, which must be an id (400 otherwise)."""
        return path_id(self.params[name], name, max_length)

    def row_ids(self, name: str) -> tuple[str, str]:
        """``churchId`` and the 11-character row id ``name`` of the path, both checked:
        the address of one row of a church (``/:churchId/:id``, ``/:churchId/person/:personId``)."""
        return self.path_id("churchId", ID_LENGTH), self.path_id(name, ID_LENGTH)

    def json(self) -> Any:
        if self._json is _UNSET:
            if not self.body.strip():
                raise BadRequest("a JSON body is required")
            self._require_json_type()
            try:
                self._json = orjson.loads(self.body)
            except orjson.JSONDecodeError as exc:
                raise BadRequest(f"body is not valid JSON: {exc}") from None
        return self._json

    def check_body(self) -> None:
        """A body, on any route that may change something, must be declared JSON (a
        route that reads none still refuses a form, so nothing is half-done)."""
        if self.method not in ("GET", "HEAD") and self.body.strip():
            self._require_json_type()

    def _require_json_type(self) -> None:
        if not is_json_media_type(self.content_type):
            got = f"'{self.content_type}'" if self.content_type else "none"
            raise UnsupportedMediaType(f"Content-Type must be application/json (got {got})")


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, parameters (charset) allowed."""
    media_type = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def check_body_size(length: int) -> None:
    if length > MAX_BODY:
        raise PayloadTooLarge(f"body is larger than {MAX_BODY} bytes")


class ClientAddress:
    """The caller's address; ``X-Forwarded-For`` counts only from trusted proxies."""

    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        try:
            self._networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        except ValueError as exc:
            raise ConfigError(f"TRUSTED_PROXIES: {exc}") from None

    def is_proxy(self, address: str) -> bool:
        """Whether ``address`` is a trusted proxy (it speaks for others)."""
        return self._trusted(address)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def __call__(self, peer: str, forwarded_for: str | None) -> str:
        if not forwarded_for or not self._trusted(peer):
            return peer
        # Walk from the nearest hop back; the first untrusted one is the client.
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer
