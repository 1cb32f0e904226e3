"""Value objects shared by invoices and recurring templates."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import is_
from typing import Any
from uuid import UUID

from domain import money


@dataclass(frozen=True)
class LineItem:
    """One line of an invoice: what was sold, how many, at what unit price."""

    description: str
    quantity: Decimal
    unit_price: Decimal

    def amount(self, currency: str) -> Decimal:
        return money.line_amount(self.quantity, self.unit_price, currency)


@dataclass(frozen=True)
class Payment:
    """Money received against an invoice."""

    id: UUID
    amount: Decimal
    payment_date: date
    payment_method: str | None
    reference: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Totals:
    """The figures derived from an invoice's lines, tax and payments."""

    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal


def compute_totals(
    lines: tuple[LineItem, ...],
    tax_rate: Decimal,
    currency: str,
    payments: tuple[Payment, ...] = (),
) -> Totals:
    """The contract's arithmetic: round each line, sum, round the tax, add."""
    zero = money.zero(currency)
    subtotal, tax = _line_sums(lines, tax_rate, currency)
    total = subtotal + tax
    paid = _paid(payments, zero)
    return Totals(subtotal, tax, total, paid, total - paid)


class _Recent:
    """The last `size` results put, by an int key (an object's id); the oldest put is
    dropped first. Reads take no lock; puts do."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: int) -> Any:
        return self._kept.get(key)

    def put(self, key: int, value: Any) -> None:
        with self._lock:
            self._kept.pop(key, None)  # the latest goes last
            self._kept[key] = value
            while len(self._kept) > self.size:
                del self._kept[next(iter(self._kept))]


class _LineSums:
    """The subtotal and tax of the last lines seen, kept by the identity of the lines'
    tuple: an invoice keeps the same tuple from event to event (only an edit makes
    another), and its totals are read at every payment, for its row and its document.
    The tax rate must be the very same object too, so the result is the one the
    arithmetic gives (a kept tuple is held, so no other object can take its id)."""

    KEPT = 1024

    def __init__(self) -> None:
        self._kept = _Recent(self.KEPT)

    def __call__(
        self, lines: tuple[LineItem, ...], tax_rate: Decimal, currency: str
    ) -> tuple[Decimal, Decimal]:
        kept = self._kept.get(id(lines))
        if kept is not None and kept[0] is lines and kept[1] is tax_rate and kept[2] == currency:
            return kept[3], kept[4]
        subtotal = sum((line.amount(currency) for line in lines), money.zero(currency))
        tax = money.tax_amount(subtotal, tax_rate, currency)
        self._kept.put(id(lines), (lines, tax_rate, currency, subtotal, tax))
        return subtotal, tax


_line_sums = _LineSums()


class _PaidSums:
    """The sums of the last few long payment tuples: a command on an invoice reads its
    totals several times (its rules, its row, its document), and the tuple changes only
    when a payment is added, which makes a new one that starts with the same payment
    objects: its sum is the last one's plus the new payments', the very additions a
    sum from the start makes. Kept by the identity of the tuple's first payment (a
    kept tuple is held, so no other object can take that id while it is here)."""

    LONG = 16
    KEPT = 32

    def __init__(self) -> None:
        self._kept = _Recent(self.KEPT)

    def __call__(self, payments: tuple[Payment, ...], zero: Decimal) -> Decimal:
        if len(payments) < self.LONG:
            return sum((p.amount for p in payments), zero)
        kept = self._kept.get(id(payments[0]))
        start, paid = 0, zero
        if kept is not None and kept[1].as_tuple() == zero.as_tuple():
            earlier: tuple[Payment, ...] = kept[0]
            earlier_paid: Decimal = kept[2]
            if earlier is payments:
                return earlier_paid
            if len(earlier) < len(payments) and all(map(is_, earlier, payments)):
                start, paid = len(earlier), earlier_paid
        paid = sum((p.amount for p in payments[start:]), paid)
        self._kept.put(id(payments[0]), (payments, zero, paid))
        return paid


_paid = _PaidSums()


QUEUED, DELIVERED, FAILED = "QUEUED", "SENT", "FAILED"


@dataclass(frozen=True)
class Email:
    """One delivery of an invoice by email, and how it went."""

    id: UUID
    to_email: str
    subject: str
    body: str
    message_id: str
    status: str = QUEUED
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
