"""Checks on request input. Each failure raises BadRequest naming the problem."""

from __future__ import annotations

from typing import Any

from steeple.errors import BadRequest, PayloadTooLarge
from steeple.types import is_valid_id

MAX_CONTENT = 32 * 1024
MAX_NAME = 100
MAX_BATCH = 500


def array_of_objects(body: Any, what: str = "body") -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise BadRequest(f"{what} must be a JSON array of objects")
    if len(body) > MAX_BATCH:
        raise PayloadTooLarge(f"{what} may hold at most {MAX_BATCH} entries")
    for index, entry in enumerate(body):
        if not isinstance(entry, dict):
            raise BadRequest(f"{what}[{index}] must be an object")
    return body


def an_object(body: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return body


def text(
    entry: dict[str, Any],
    name: str,
    *,
    required: bool = True,
    max_length: int = 255,
    default: str = "",
) -> str:
    value = entry.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{name}' is required")
        return default
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    if len(value) > max_length:
        error = PayloadTooLarge if max_length >= MAX_CONTENT else BadRequest
        raise error(f"'{name}' is longer than {max_length} characters")
    if "\x00" in value:  # PostgreSQL refuses NUL in text; no client means to send one
        raise BadRequest(f"'{name}' must not contain NUL characters")
    return value


def identifier(
    entry: dict[str, Any], name: str, *, required: bool = True, max_length: int = 64
) -> str:
    value = text(entry, name, required=required, max_length=max_length)
    if value and not is_valid_id(value, max_length):
        raise BadRequest(f"'{name}' is not a valid id")
    return value


def socket_identifier(entry: dict[str, Any], name: str = "socketId") -> str:
    value = text(entry, name, max_length=64)
    if not _is_socket_id(value):
        raise BadRequest(f"'{name}' is not a valid socket id")
    return value


def path_socket_id(value: str, name: str = "socketId") -> str:
    if not _is_socket_id(value):
        raise BadRequest(f"'{name}' in the path is not a valid socket id")
    return value


def _is_socket_id(value: str) -> bool:
    """Steeple's own ids, or API Gateway connectionIds: base64 that may end in ``=``."""
    body = value.rstrip("=")
    return len(value) - len(body) <= 2 and is_valid_id(body)


def path_id(value: str, name: str, max_length: int = 64) -> str:
    if not is_valid_id(value, max_length):
        raise BadRequest(f"'{name}' in the path is not a valid id")
    return value


def flag(entry: dict[str, Any], name: str, default: bool) -> bool:
    value = entry.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise BadRequest(f"'{name}' must be true or false")


def positive_int(raw: str | None, name: str, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"'{name}' must be a positive integer")
    return min(int(raw), maximum)
