"""An invoice's payments kept in blocks beside its row, written once each.

The contract's invoice lists every payment it has had, so an invoice's state and its
document both grow by one payment per payment: stored whole, each payment on an
invoice with 1,000 payments wrote about 350 KB again (compressed, split and logged
by the database), most of what made it slower than a payment on a new invoice.

So an invoice's payments are stored in blocks of BLOCK, each block the payments'
texts in the state's encoding and in the document's, comma-separated. A block is
written once, by the event that records its last payment, and never changed: a
recorded payment is never changed or removed. The row keeps the payments after its
last full block (fewer than BLOCK) and says how many are in blocks (`payments_out`);
a read puts the blocks' texts back in front of them, so what it returns is the state
and the document as they were before, byte for byte.

Each event records at most one payment (`Invoice.record_payment`), so a write that
applies `added` events to a row standing at n payments completes at most the blocks
ending in (n - added, n]: those are the blocks it inserts, and every earlier one was
inserted by an earlier write of the same row (a layout change or a rebuild empties the
rows and the blocks together and refills both from the events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import msgspec

from projections.plans import Plan, Query

BLOCK = 32  # payments per block: a payment rewrites at most BLOCK - 1 in the row
TABLE = "view_invoice_payments"
KEY = b'"payments":['
_KEY_SQL = KEY.decode()


class _Items(msgspec.Struct):
    payments: list[msgspec.Raw]


_DOCUMENT = msgspec.json.Decoder(_Items)


def moved(count: int) -> int:
    """How many of an invoice's `count` payments are kept in blocks."""
    return count - count % BLOCK


def create_statements(blob: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (invoice_id TEXT NOT NULL, "
        f"first_payment INTEGER NOT NULL, state {blob} NOT NULL, document {blob} NOT NULL, "
        "PRIMARY KEY (invoice_id, first_payment))"
    ]


def document_items(document: bytes) -> list[msgspec.Raw]:
    """Each payment's JSON in an invoice document, in order."""
    return _DOCUMENT.decode(document).payments


def splice(head: bytes, parts: Sequence[bytes]) -> bytes:
    """The text whole again: the blocks' `parts` put in front of the row's payments."""
    if not parts:
        return head
    at = head.index(KEY) + len(KEY)
    sep = b"" if head[at : at + 1] == b"]" else b","
    return head[:at] + b",".join(parts) + sep + head[at:]


def whole_sql(table: str, column: str, dialect: str, typed_only: bool = False) -> str:
    """SQL for the row's `column` with its blocks' texts put back (see `splice`), for
    reads that load the row's state; NULL if any of its blocks is missing (a row
    written while a rebuild refilled the blocks, say: see `InlineViews`). `typed_only`:
    only a typed state (`["<topic>",...`) leaves its payments out; any other encoding
    is stored whole."""
    t, b = table, TABLE
    mine = f"b.invoice_id = {t}.id AND b.first_payment < {t}.payments_out"
    complete = f"{complete_sql(t)} = 1"
    if dialect == "postgresql":
        at = f"position('{_KEY_SQL}'::bytea IN {t}.{column})"
        typed = f"substr({t}.{column}, 1, 2) = '[\"'::bytea AND {at} > 0"
        parts = (
            f"(SELECT string_agg(b.{column}, ','::bytea ORDER BY b.first_payment) FROM {b} b "
            f"WHERE {mine})"
        )
        sep = f"CASE WHEN get_byte({t}.{column}, {at} + 11) = 93 THEN ''::bytea ELSE ','::bytea END"
        spliced = f"overlay({t}.{column} PLACING {parts} || {sep} FROM {at} + 12 FOR 0)"
    else:
        at = f"instr({t}.{column}, CAST('{_KEY_SQL}' AS BLOB))"
        typed = f"substr({t}.{column}, 1, 2) = CAST('[\"' AS BLOB) AND {at} > 0"
        # Rows come in the primary key's order, which group_concat keeps.
        parts = (
            f"(SELECT group_concat(p, ',') FROM (SELECT b.{column} AS p FROM {b} b "
            f"WHERE {mine} ORDER BY b.first_payment))"
        )
        sep = f"CASE WHEN substr({t}.{column}, {at} + 12, 1) = X'5D' THEN '' ELSE ',' END"
        spliced = (
            f"CAST(substr({t}.{column}, 1, {at} + 11) || {parts} || {sep} || "
            f"substr({t}.{column}, {at} + 12) AS BLOB)"
        )
    kept_apart = f"{t}.payments_out > 0" + (f" AND {typed}" if typed_only else "")
    return (
        f"CASE WHEN NOT ({kept_apart}) THEN {t}.{column} "
        f"WHEN {complete} THEN {spliced} ELSE NULL END"
    )


def complete_sql(table: str) -> str:
    """SQL: 1 if the row's blocks are all there, else 0."""
    t = table
    return (
        f"CASE WHEN {t}.payments_out = 0 OR (SELECT count(*) FROM {TABLE} b "
        f"WHERE b.invoice_id = {t}.id AND b.first_payment < {t}.payments_out) * {BLOCK} "
        f"= {t}.payments_out THEN 1 ELSE 0 END"
    )


def whole_documents(rows: Iterable[tuple[str, bytes, int]]) -> Plan[dict[str, bytes | None]]:
    """Each invoice's document whole, from (id, the row's document, its payments_out),
    or None where a block is missing; the blocks of those that have any are read in
    one query."""
    rows = list(rows)
    out = {ident: (doc, count) for ident, doc, count in rows if count}
    documents: dict[str, bytes | None] = {
        ident: bytes(doc) for ident, doc, count in rows if not count
    }
    if not out:
        return documents
    ids = sorted(out)
    found = yield Query(
        f"SELECT invoice_id, first_payment, document FROM {TABLE} "
        f"WHERE invoice_id IN ({', '.join('?' for _ in ids)}) "
        "ORDER BY invoice_id, first_payment",
        ids,
    )
    parts: dict[str, list[bytes]] = {}
    for ident, first, part in found:
        if first < out[ident][1]:
            parts.setdefault(ident, []).append(bytes(part))
    for ident, (doc, count) in out.items():
        documents[ident] = spliced(bytes(doc), count, parts.get(ident, []))
    return documents


def spliced(head: bytes, count: int, parts: Sequence[bytes]) -> bytes | None:
    """The row's `head` whole again, given the blocks of its `count` payments kept
    apart; None if any is missing."""
    return splice(head, parts) if len(parts) * BLOCK == count else None


def block_rows(
    invoice_id: str,
    count: int,
    added: int,
    state_items: Callable[[int, int], bytes],
    document: Callable[[], bytes],
) -> list[tuple[str, int, bytes, bytes]]:
    """The blocks a write completes: (invoice_id, first payment, state text, document
    text) for each block ending in (count - added, count]. `state_items(start, stop)` is
    the state's encoding of those payments, comma-separated; `document()` the whole
    document, asked for only if a block is complete."""
    first, last = moved(max(count - added, 0)), moved(count)
    if first == last:
        return []
    items = document_items(document())
    return [
        (
            invoice_id,
            start,
            state_items(start, start + BLOCK),
            b",".join(bytes(item) for item in items[start : start + BLOCK]),
        )
        for start in range(first, last, BLOCK)
    ]


def insert_statement() -> str:
    return (
        f"INSERT INTO {TABLE} (invoice_id, first_payment, state, document) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (invoice_id, first_payment) DO NOTHING"
    )
