"""Batched inserts (`insert_rows`) store every value as given, bytes included: on
PostgreSQL the bytes columns go as binary arrays beside the JSON rows."""

from __future__ import annotations

import os
from typing import Any

from infrastructure.bootstrap import Services
from projections.aggregate_view import blob_type
from projections.audit_batch import insert_rows

COLUMNS = ("id", "n", "label", "first", "second", "never")


def stored(services: Services) -> list[tuple[Any, ...]]:
    with services.db.transaction() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM batch_probe ORDER BY id")
        return [
            tuple(bytes(v) if isinstance(v, memoryview | bytearray) else v for v in row)
            for row in cur.fetchall()
        ]


def test_rows_with_bytes_and_nulls_are_stored_as_given(services: Services) -> None:
    dialect, blob = services.db.dialect, blob_type(services.db.dialect)
    rows: list[tuple[Any, ...]] = [
        # The first row has no bytes where later rows do; one column never has any.
        ("a", 1, 'quote " and \\ back', None, b"\x00\xff" * 300, None),
        *((f"r{i:03}", i, f"row {i}", os.urandom(i), os.urandom(2000), None) for i in range(40)),
        ("z", None, None, b"", b"\\x41", None),  # empty bytes; text that looks like hex
    ]
    with services.db.transaction() as cur:
        cur.execute(
            f"CREATE TABLE batch_probe (id TEXT PRIMARY KEY, n BIGINT, label TEXT, "
            f"first {blob}, second {blob}, never {blob})"
        )
        insert_rows(cur, dialect, "batch_probe", COLUMNS, rows)
    assert stored(services) == sorted(rows)
    # Again with a conflict clause: the rows already there are left as they are.
    changed = [(r[0], 0, "changed", b"new", b"new", b"new") for r in rows[:3]]
    with services.db.transaction() as cur:
        insert_rows(cur, dialect, "batch_probe", COLUMNS, changed, "ON CONFLICT (id) DO NOTHING")
    assert stored(services) == sorted(rows)
