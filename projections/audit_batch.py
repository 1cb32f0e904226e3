"""Batched reads and writes for the audit views: a few queries per batch, not per event.

What a batch needs (chain rows already linked, entity owners, account chain heads) is
read before any view of the batch writes, then each event is resolved in order in
memory, exactly as one-at-a-time application would resolve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, cast

import msgspec
from eventsourcing.persistence import Notification

from application.ports import BulkCursor, SqlCursor
from projections.audit_chain import GENESIS, is_audited, named_account

Batch = Sequence[tuple[Notification, Any]]
CHUNK = 500  # ids or rows per statement, far below either database's parameter limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(
    cur: SqlCursor,
    dialect: str,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    tail: str = "",
) -> None:
    """`INSERT INTO table (columns) <rows> tail`, many rows per statement.

    On PostgreSQL the rows go as one JSON parameter typed by the table's own row type:
    a statement with thousands of placeholders, or text arrays escaped one element at
    a time, cost more to prepare on the client than the insert costs to run. Columns
    that hold bytes go beside it as arrays, sent in binary, row for row (in JSON they
    would be hex text, twice their size, made and parsed on both sides).
    """
    if not rows:
        return
    names = ", ".join(columns)
    if dialect == "postgresql":
        binary = _bytes_columns(rows)
        if not binary:
            encoded = _ENCODER.encode([_row_type(tuple(columns))(*row) for row in rows])
            cur.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM "
                f"json_populate_recordset(NULL::{table}, ?::json) {tail}",
                (encoded.decode(),),
            )
            return
        textual = [i for i in range(len(columns)) if i not in binary]
        row_type = _row_type(tuple(columns[i] for i in textual))
        encoded = _ENCODER.encode([row_type(*[row[i] for i in textual]) for row in rows])
        chosen = ", ".join(
            f"b.{name}" if i in binary else f"r.{name}" for i, name in enumerate(columns)
        )
        arrays = ", ".join("%b::bytea[]" for _ in binary)  # sent in binary, not escaped
        aliases = ", ".join(columns[i] for i in binary)
        cur.execute(
            f"INSERT INTO {table} ({names}) SELECT {chosen} FROM "
            f"json_populate_recordset(NULL::{table}, ?::json) WITH ORDINALITY AS r "
            f"JOIN unnest({arrays}) WITH ORDINALITY AS b({aliases}, n) "
            f"ON b.n = r.ordinality {tail}",
            (encoded.decode(), *([_binary(row[i]) for row in rows] for i in binary)),
        )
        return
    one = "(" + ", ".join("?" for _ in columns) + ")"
    for part in chunks(rows, max(1, CHUNK * 4 // len(columns))):
        values = ", ".join(one for _ in part)
        cur.execute(
            f"INSERT INTO {table} ({names}) VALUES {values} {tail}",
            [v for row in part for v in row],
        )


COPY_FROM = 256  # rows from which new rows are streamed (PostgreSQL's COPY) instead


def insert_new_rows(
    cur: SqlCursor,
    dialect: str,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    tail: str,
) -> None:
    """`insert_rows` for rows a follower adds past its position, which are new to the
    table: many are streamed where the database can (a rebuild's batches). Should the
    stream fail (one of them there after all, say), none is written that way and the
    INSERT adds them, its `tail` saying what becomes of one met again, as it always did."""
    bulk = cast(BulkCursor, cur) if hasattr(cur, "copy_new_rows") else None
    if len(rows) >= COPY_FROM and bulk is not None and bulk.copy_new_rows(table, columns, rows):
        return
    insert_rows(cur, dialect, table, columns, rows, tail)


_BYTES = (bytes, bytearray, memoryview)
_ENCODER = msgspec.json.Encoder()


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]) -> type[msgspec.Struct]:
    """A row as a JSON object keyed by its column names, encoded in C (building a dict
    per row and encoding it with `json` was most of a batched insert's cost)."""
    return msgspec.defstruct("Row", columns)


def _bytes_columns(rows: Sequence[tuple[Any, ...]]) -> list[int]:
    """The positions of the columns that hold bytes in some row."""
    first = rows[0]
    found = [i for i, v in enumerate(first) if isinstance(v, _BYTES)]
    for i, value in enumerate(first):
        if value is None and any(isinstance(row[i], _BYTES) for row in rows):
            found.append(i)
    return sorted(found)


def _binary(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def select_in(cur: SqlCursor, sql: str, ids: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql`, whose `{}` stands for an IN list, over every id in chunks."""
    rows: list[tuple[Any, ...]] = []
    for part in chunks(list(ids)):
        cur.execute(sql.format(", ".join("?" for _ in part)), part)
        rows += cur.fetchall()
    return rows


COUNT_FIRST = 256  # a batch this large is counted first: a rebuild's are linked already


def counted_whole(cur: SqlCursor, table: str, batch: Batch, expected: int) -> bool:
    """Whether a large batch is counted and `table` holds `expected` rows (by seq) in its
    range: all of them when no other row can be there. A small one is not counted."""
    if len(batch) < COUNT_FIRST:
        return False
    cur.execute(
        f"SELECT COUNT(*) FROM {table} WHERE seq >= ? AND seq <= ?",
        (batch[0][0].id, batch[-1][0].id),
    )
    row = cur.fetchone()
    return row is not None and int(row[0]) == expected


def seq_range(cur: SqlCursor, table: str, batch: Batch, expected: int) -> dict[int, Any] | None:
    """seq -> the rest of the row, for the rows of `table` within the batch's range; None
    when the table holds all `expected` rows of the batch. A large batch is counted
    first, so a rebuild passing events linked before reads a count, not 2,000 rows."""
    if not batch:
        return {}
    if counted_whole(cur, table, batch, expected):
        return None
    bounds = (batch[0][0].id, batch[-1][0].id)
    cur.execute(
        f"SELECT seq, {'hash' if table == 'audit_chain' else 'account_id'} FROM {table} "
        "WHERE seq >= ? AND seq <= ?",
        bounds,
    )
    return {int(r[0]): r[1] for r in cur.fetchall()}


def chain_before(cur: SqlCursor, seq: int) -> str:
    cur.execute("SELECT hash FROM audit_chain WHERE seq < ? ORDER BY seq DESC LIMIT 1", (seq,))
    row = cur.fetchone()
    return str(row[0]) if row else GENESIS


class KnownOwners:
    """Entities' owners a follower has already read or recorded. An owner never changes
    once recorded (the first event naming it wins, and the log is followed in order),
    so these need not be read again each batch. Bounded: cleared when full."""

    def __init__(self, limit: int = 50_000) -> None:
        self.owners: dict[str, str] = {}
        self.limit = limit

    def add(self, owners: dict[str, str]) -> None:
        if len(self.owners) + len(owners) > self.limit:
            self.owners.clear()
        for entity_id, account_id in owners.items():
            self.owners.setdefault(entity_id, account_id)


def resolve_owners(
    cur: SqlCursor, batch: Batch, known: KnownOwners | None = None
) -> list[tuple[str | None, str | None]]:
    """For each event: (its account, the account its event names for another entity).

    The account is what a lookup in `audit_entities` would say at that event, had every
    earlier event of the batch recorded its entity's owner (the first naming wins).
    Owners in `known` are not read again; what the batch reads or names is added to it.
    """
    cached = known.owners if known is not None else {}
    # (entity, the account it names or None) per audited event, None for the others.
    events = [(str(e.originator_id), named_account(e)) if is_audited(e) else None for _, e in batch]
    named_before: set[str] = set()  # named by an earlier event of this batch
    missing: set[str] = set()
    for item in events:
        if item is None:
            continue
        entity_id, named = item
        if named is None:
            if entity_id not in cached and entity_id not in named_before:
                missing.add(entity_id)
        elif named != entity_id:
            named_before.add(entity_id)
    sql = "SELECT entity_id, account_id FROM audit_entities WHERE entity_id IN ({})"
    owners = {str(r[0]): str(r[1]) for r in select_in(cur, sql, sorted(missing))}
    out: list[tuple[str | None, str | None]] = []
    for item in events:
        if item is None:
            out.append((None, None))
            continue
        entity_id, named = item
        if named is None:
            owner = owners.get(entity_id)
            if owner is None:
                owner = cached.get(entity_id)
            out.append((owner, None))
        elif named == entity_id:
            out.append((named, None))
        else:
            if entity_id not in owners and entity_id not in cached:
                owners[entity_id] = named
            out.append((named, named))
    if known is not None:
        known.add(owners)
    return out


def record_owners(cur: SqlCursor, dialect: str, rows: Iterable[tuple[str, str]]) -> None:
    unique = list(dict.fromkeys(rows))
    insert_rows(
        cur,
        dialect,
        "audit_entities",
        ("entity_id", "account_id"),
        unique,
        "ON CONFLICT (entity_id) DO NOTHING",
    )


HEADS_PER_STATEMENT = 8
_HEADS_SQL = " UNION ALL ".join(
    "SELECT * FROM (SELECT account_id, position, hash FROM audit_account_chain "
    f"WHERE account_id = ? ORDER BY position DESC LIMIT 1) AS head{n}"
    for n in range(HEADS_PER_STATEMENT)
)


def account_heads(cur: SqlCursor, accounts: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Each account chain's length and last hash (accounts with none are left out).

    Each account's last link is a subquery of its own, which both databases answer
    from the end of the (account, position) index, whatever the chain's length; `MAX
    (position) ... GROUP BY account_id` read every link of the accounts instead (with
    100,000 links each, 98 ms for one account on every pass of the follower). The
    accounts go eight to a statement, the last eight made up by repeating one, so that
    every statement has the same text and PostgreSQL plans it once per connection."""
    heads: dict[str, tuple[int, str]] = {}
    ordered = sorted(accounts)
    for start in range(0, len(ordered), HEADS_PER_STATEMENT):
        part = ordered[start : start + HEADS_PER_STATEMENT]
        cur.execute(_HEADS_SQL, part + part[-1:] * (HEADS_PER_STATEMENT - len(part)))
        heads.update((str(r[0]), (int(r[1]), str(r[2]))) for r in cur.fetchall())
    return heads
