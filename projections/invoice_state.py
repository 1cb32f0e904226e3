"""The invoice's state as typed fields, so that its row is encoded and decoded by
msgspec in C: an invoice's payments and emails grow with its life, and the event
store's generic JSON spends microseconds of Python on each of their values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TypedDict
from uuid import UUID

from domain.values import Email, LineItem, Payment


class InvoiceState(TypedDict):
    """Every attribute an `Invoice` holds besides its id, version and pending events.
    An invoice with any other attribute set is stored in the generic encoding."""

    _created_on: datetime
    _modified_on: datetime
    account_id: UUID
    number: str
    client_id: UUID
    issue_date: date
    due_date: date
    currency: str
    tax_name: str | None
    tax_rate: Decimal
    line_items: tuple[LineItem, ...]
    notes: str | None
    status: str
    recurring_invoice_id: UUID | None
    payments: tuple[Payment, ...]
    emails: tuple[Email, ...]
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
