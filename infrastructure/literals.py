"""SQL literals for the save script's values, written as psycopg writes them.

The save script quotes its values as literals (see `eventstore.py`). psycopg's `mogrify`
looks up an adapter, dumps and quotes each value in turn, about 7% of a worker's time
under POST load for some 50 values a save. The script's values are almost all of five
types, written here the way psycopg writes them, byte for byte (a property test holds
the two together); a value of any other type, or text holding a NUL (which PostgreSQL
cannot store, and psycopg refuses), is left to psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID


def literal(value: Any) -> str | None:
    """`value` as psycopg's `mogrify` writes it, or None if this module does not say."""
    kind = type(value)
    if kind is str:
        text: str = value
        if "\x00" in text:
            return None
        if "\\" in text:
            escaped = text.replace("\\", "\\\\").replace("'", "''")
            return f" E'{escaped}'"
        return "'" + text.replace("'", "''") + "'"
    if kind is bytes:
        return f"'\\x{value.hex()}'::bytea"
    if kind is int:
        return f" {value}" if value < 0 else str(value)
    if kind is UUID:
        return f"'{value.hex}'::uuid"
    if value is None:
        return "NULL"
    return None


def literals(values: Sequence[Any]) -> list[str] | None:
    """Each of `values` as `literal` writes it, or None if one of them is not written."""
    written = []
    for value in values:
        text = literal(value)
        if text is None:
            return None
        written.append(text)
    return written
