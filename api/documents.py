"""The API's JSON for each resource, written into its read-model row with its events
(the `Documents` port): reads return these bytes as they are."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec

from api import render
from api.responses import encode
from domain.values import Payment
from projections.grown_arrays import GrownArrays
from projections.invoices_view import as_of_day

_KEPT = 64  # saves whose response has not yet been made (a few per thread at most)


class _Shaped:
    """The document last shaped for each of the most recently saved aggregate objects,
    by object and version, until its response takes it: a command's response is the
    document its save just wrote, not a second rendering (an invoice's document lists
    every payment it has had).
    An object changes only through events, which raise its version, so a document
    found for the same object at the same version is the one its state gives."""

    def __init__(self) -> None:
        self._entries: OrderedDict[int, tuple[weakref.ref[Any], int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, aggregate: Any, document: bytes) -> None:
        with self._lock:
            self._entries[id(aggregate)] = (weakref.ref(aggregate), aggregate.version, document)
            self._entries.move_to_end(id(aggregate))
            while len(self._entries) > _KEPT:
                self._entries.popitem(last=False)

    def take(self, aggregate: Any) -> bytes | None:
        with self._lock:
            entry = self._entries.pop(id(aggregate), None)
        if entry is None or entry[1] != aggregate.version or entry[0]() is not aggregate:
            return None
        return entry[2]


_SHAPED = _Shaped()


class _PaymentJson:
    """Each payment's JSON, kept for invoices with many payments: a command on one
    reshapes its document, and all but the new payment were shaped by the commands
    before. A text is kept under every field its payment renders from (the amount as
    its digits, since 5 and 5.00 are equal Decimals), so only an equal payment finds it."""

    MANY = 16  # invoices with fewer payments shape them afresh, and keep nothing
    KEPT = 20_000  # about 12 MB at most

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], bytes] = {}
        self._lock = threading.Lock()

    def joined(self, payments: Sequence[Payment]) -> bytes:
        """The payments' texts, comma-separated (an array's inside)."""
        parts = []
        for payment in payments:
            key = _key(payment)
            text = self._kept.get(key)
            if text is None:
                text = encode(render.payment(payment))
                self._keep(key, text)
            parts.append(text)
        return b",".join(parts)

    def _keep(self, key: tuple[Any, ...], text: bytes) -> None:
        with self._lock:
            self._kept[key] = text
            while len(self._kept) > self.KEPT:  # the earliest kept go first
                del self._kept[next(iter(self._kept))]


def _key(p: Payment) -> tuple[Any, ...]:
    # Hashed and compared in C (a UUID's own == and hash are Python code). Every field
    # of Payment is here (tests/unit/test_invoice_documents.py checks each).
    return (p.id.int, str(p.amount), p.payment_date, p.payment_method, p.reference, p.recorded_at)


# The last payments array of each invoice, extended by its next command's payments; at
# most 8 MB of text (its tuples are mostly the kept states' own, see KeptStates).
_JSON = _PaymentJson()
_PAYMENTS = GrownArrays(_JSON.joined, 8 * 1024 * 1024)


def _invoice(invoice: Any) -> bytes:
    # No day is before date.min, so the stored document says `isOverdue: false`;
    # reads set it for the day they are made.
    payments = invoice.payments
    many = len(payments) >= _PaymentJson.MANY
    kept = msgspec.Raw(_PAYMENTS.array(invoice.id, tuple(payments))) if many else None
    return encode(render.invoice(invoice, date.min, payments=kept))


class ApiDocuments:
    def invoice(self, invoice: Any) -> bytes:
        document = _invoice(invoice)
        _SHAPED.put(invoice, document)
        return document

    def invoice_without(self, invoice: Any, skip: int) -> bytes:
        # Its totals are the whole invoice's; only the list leaves the first out.
        rest = msgspec.Raw(b"[" + _JSON.joined(invoice.payments[skip:]) + b"]")
        return encode(render.invoice(invoice, date.min, payments=rest))

    def past_invoice(self, invoice: Any) -> bytes:
        return encode(render.invoice(invoice, date.min))

    def client(self, client: Any) -> bytes:
        return encode(render.client(client))

    def recurring(self, template: Any) -> bytes:
        return encode(render.recurring(template))


def invoice_document(invoice: Any, today: date) -> bytes:
    """The invoice as a command left it, `isOverdue` as of `today`: the document its
    save wrote when there is one (see `_Shaped`), else shaped now."""
    document = _SHAPED.take(invoice) or _invoice(invoice)
    return as_of_day(document, invoice.status, invoice.due_date.isoformat(), today)
