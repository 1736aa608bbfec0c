"""Rows travel as plain dicts keyed by the ChurchApps column names (the JSON shapes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Row as SqlRow

Row = dict[str, Any]


def as_row(row: SqlRow[Any] | None) -> Row | None:
    return None if row is None else _plain(row)


def as_rows(rows: Iterable[SqlRow[Any]]) -> list[Row]:
    return [_plain(row) for row in rows]


def _plain(row: SqlRow[Any]) -> Row:
    # SQLAlchemy keys are ``quoted_name`` (a str subclass) that orjson refuses as dict
    # keys; plain ``str`` keys keep every row JSON-encodable.
    return {str(key): value for key, value in row._mapping.items()}
