"""Rows travel as plain dicts keyed by the ChurchApps column names (the JSON shapes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Row as SqlRow

Row = dict[str, Any]


def as_row(row: SqlRow[Any] | None) -> Row | None:
    return None if row is None else dict(row._mapping)


def as_rows(rows: Iterable[SqlRow[Any]]) -> list[Row]:
    return [dict(row._mapping) for row in rows]
