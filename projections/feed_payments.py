"""An invoice's payments in the events feed, stored once instead of once per event.

A feed row carries its invoice as it stood right after the event, every payment
included: stored whole, an invoice's N payments would take N rows of up to N payments
each, and each payment would write every earlier one again. So the row of an invoice
with MANY or more payments stores its document with an empty `payments` array, behind a
mark that says how many payments it had, where they go, and which invoice at which
version it was. A read puts them back.

A recorded payment is never changed or removed, and an invoice's payments only grow,
so its first k payments are the same whenever they are read: they are taken from the
invoice's current row (one read per invoice in a page). Should that row not hold them
(a rebuild refilling the rows), they come from the invoice at that version in the event
store. Rows stored whole (fewer payments, or written before this) are read as they are.
The payments put back are rendered as the invoice's row renders them: a later change
to how a payment is rendered would show in older events too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from application.ports import SqlDatabase
from projections import invoice_payments
from projections.plans import run_plan

MANY = 16  # invoices with fewer payments keep them in each row
MARK = "~"  # a stored body is JSON, which never starts with this
_KEY = b'"payments":'


class _Array(msgspec.Struct):
    payments: msgspec.Raw


@dataclass(frozen=True)
class Elided:
    """A document with its payments taken out: `cut` is where they go back."""

    document: bytes
    cut: int
    count: int


@dataclass(frozen=True)
class Mark:
    count: int  # payments taken out
    cut: int  # the byte of the body's JSON they go before
    version: int  # the invoice's version right after the event
    invoice_id: str
    body: bytes  # the JSON without them


def elide(document: bytes, count: int) -> Elided | None:
    """The invoice document without its `count` payments, if there are MANY or more."""
    if count < MANY:
        return None
    array = bytes(msgspec.json.decode(document, type=_Array).payments)
    # The key's only unescaped occurrence (a string's quotes are escaped); the array
    # found there must be the one decoded.
    at = document.find(_KEY + b"[") + len(_KEY)
    if at < len(_KEY) or document[at : at + len(array)] != array:
        return None
    return Elided(document[:at] + b"[]" + document[at + len(array) :], at + 1, count)


def marked(body: bytes, elided: Elided, version: int, invoice_id: str) -> str:
    """The stored text of a feed body whose object is `elided.document`."""
    cut = body.index(elided.document) + elided.cut
    return f"{MARK}{elided.count}:{cut}:{version}:{invoice_id}{MARK}{body.decode()}"


def parse(text: str) -> Mark | None:
    if not text.startswith(MARK):
        return None
    end = text.index(MARK, 1)
    count, cut, version, invoice_id = text[1:end].split(":")
    return Mark(int(count), int(cut), int(version), invoice_id, text[end + 1 :].encode())


def splice(mark: Mark, payments: Sequence[Any]) -> bytes:
    """The body whole again, given its invoice's payments (at least as many as it had)."""
    if len(payments) < mark.count:
        raise RuntimeError(f"invoice {mark.invoice_id} has fewer payments than its feed row")
    joined = b",".join(payments[: mark.count])
    return mark.body[: mark.cut] + joined + mark.body[mark.cut :]


class FeedPayments:
    """Puts the payments back into stored feed bodies."""

    def __init__(self, table: str, document_at: Callable[[UUID, int], bytes]) -> None:
        self.table = table  # the invoices' rows, with their current documents
        self.document_at = document_at  # an invoice's document at a version (fallback)

    def bodies(self, db: SqlDatabase, account_id: str, texts: Iterable[str]) -> list[bytes]:
        """The feed bodies, whole, of these stored texts (all of one account)."""
        texts = list(texts)
        marks = [parse(text) for text in texts]
        needed: dict[str, Mark] = {}  # per invoice, the mark with the most payments
        for mark in marks:
            if mark is not None and mark.count > getattr(needed.get(mark.invoice_id), "count", 0):
                needed[mark.invoice_id] = mark
        if not needed:
            return [text.encode() for text in texts]
        payments = self._current(db, account_id, needed)
        for invoice_id, mark in needed.items():
            if len(payments.get(invoice_id, ())) < mark.count:
                # No row, or one behind (a rebuild refilling it): once per invoice, from
                # the event store, at the latest version a row here needs.
                document = self.document_at(UUID(invoice_id), mark.version)
                payments[invoice_id] = invoice_payments.document_items(document)
        return [
            text.encode() if mark is None else splice(mark, payments[mark.invoice_id])
            for text, mark in zip(texts, marks, strict=True)
        ]

    def _current(
        self, db: SqlDatabase, account_id: str, ids: Iterable[str]
    ) -> dict[str, list[msgspec.Raw]]:
        """Each invoice's payments from its row, selected by (account, id)."""
        ids = sorted(ids)
        rows = db.rows(
            f"SELECT id, document, payments_out FROM {self.table} WHERE account_id = ? "
            f"AND id IN ({', '.join('?' for _ in ids)})",
            [account_id, *ids],
        )
        documents = run_plan(db, invoice_payments.whole_documents(rows))
        # A row missing a block gives nothing: its payments come from the event store.
        return {
            ident: invoice_payments.document_items(doc)
            for ident, doc in documents.items()
            if doc is not None
        }
