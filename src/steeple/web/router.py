"""Path routing as ChurchApps clients need it.

The whole path matches case-insensitively, and parameters are percent-decoded only
after the raw path is split into segments, so ``%2F`` inside an encrypted host-chat
id stays inside its segment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Handler = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    segments: tuple[str, ...]
    handler: Handler
    returns_list: bool

    @property
    def specificity(self) -> tuple[int, ...]:
        """Literal segments win over parameters, earliest position first."""
        return tuple(1 if s.startswith(":") else 0 for s in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, raw in zip(self.segments, parts, strict=True):
            if pattern.startswith(":"):
                params[pattern[1:]] = unquote(raw)
            elif pattern != raw.lower():
                return None
        return params


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler, *, returns_list: bool = False) -> None:
        segments = tuple(s if s.startswith(":") else s.lower() for s in _split(path))
        self._routes.append(Route(method.upper(), segments, handler, returns_list))
        self._routes.sort(key=lambda r: (len(r.segments), r.specificity))

    def routes(self) -> list[Route]:
        """Every registered route, most specific first."""
        return list(self._routes)

    def route(
        self, method: str, path: str, *, returns_list: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, path, handler, returns_list=returns_list)
            return handler

        return register

    def resolve(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | bool | None:
        """(route, params); False if the path exists under another method; None if unknown."""
        parts = _split(raw_path)
        other_method = False
        for route in self._routes:
            params = route.match(parts)
            if params is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, params
            other_method = True
        return False if other_method else None


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part != ""]
