"""Opaque pagination cursors: the sort key of the last item of a page."""

from __future__ import annotations

import base64
import json
from typing import Any

from application.ports import InvalidCursor
from projections.plans import Plan, Query

MAX_LENGTH = 512
MAX_SEQ = 2**63 - 1  # the largest BIGINT (seq is never negative)


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The key inside a cursor of this kind, or InvalidCursor.

    Whatever a client sends back must be safe to bind: integers within a BIGINT
    (else the driver overflows) and short texts without control characters (else
    PostgreSQL refuses NUL).
    """
    if len(cursor) > MAX_LENGTH:
        raise InvalidCursor("Invalid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidCursor("Invalid cursor") from None
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise InvalidCursor("Invalid cursor")
    key = value[1:]
    for item, expected in zip(key, types, strict=True):
        if type(item) is not expected or not _bindable(item):
            raise InvalidCursor("Invalid cursor")
    return key


def _bindable(item: Any) -> bool:
    if isinstance(item, int):
        return 0 <= item <= MAX_SEQ
    if isinstance(item, str):
        return len(item) <= 64 and item.isprintable()
    return True


def conditions(*filters: tuple[str, str, Any]) -> tuple[str, list[Any]]:
    """` AND column op ?` for each (column, op, value) whose value is set, and the values."""
    given = [(column, op, value) for column, op, value in filters if value is not None]
    return "".join(f" AND {c} {op} ?" for c, op, _ in given), [v for _, _, v in given]


def seq_rows(
    sql: str,
    params: list[Any],
    limit: int,
    cursor: str | None,
    kind: str,
    *,
    seq_column: int,
    newest_first: bool = True,
) -> Plan[tuple[list[tuple[Any, ...]], str | None]]:
    """One page of rows ordered by `seq`, and the cursor of the next page if any.

    `seq` only grows, so rows created while a client pages never shift the pages it
    has not seen yet: nothing is skipped or repeated.
    """
    if cursor:
        (seq,) = decode(kind, cursor, (int,))
        sql += " AND seq < ?" if newest_first else " AND seq > ?"
        params = [*params, seq]
    sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?"
    rows = yield Query(sql, [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(kind, rows[-1][seq_column]) if more else None
