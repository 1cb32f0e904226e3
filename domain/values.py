"""Value objects shared by invoices and recurring templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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
    zero = money.round_money(Decimal(0), currency)
    subtotal = sum((line.amount(currency) for line in lines), zero)
    tax = money.tax_amount(subtotal, tax_rate, currency)
    total = subtotal + tax
    paid = sum((p.amount for p in payments), zero)
    return Totals(subtotal, tax, total, paid, total - paid)


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
