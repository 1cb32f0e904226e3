"""Turns aggregates into response schemas, with the contract's date and money formats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from api.schemas import (
    ClientOut,
    EmailDelivery,
    InvoiceOut,
    LineItemOut,
    Pagination,
    PaymentOut,
    RecurringOut,
    TemplateLineOut,
)
from application.ports import Page
from domain.client import Client
from domain.invoice import Invoice
from domain.recurring import RecurringInvoice
from domain.values import Payment
from projections.stored_time import day, milliseconds  # day: dates as midnight UTC

timestamp = milliseconds  # every moment the API returns (documents shape many)


def maybe_timestamp(value: datetime | None) -> str | None:
    return None if value is None else timestamp(value)


def client(c: Client) -> ClientOut:
    d = c.details
    return ClientOut(
        id=str(c.id),
        name=d["name"],
        company=d.get("company"),
        email=d.get("email"),
        phone=d.get("phone"),
        address_line1=d.get("address_line1"),
        address_line2=d.get("address_line2"),
        city=d.get("city"),
        county=d.get("county"),
        postcode=d.get("postcode"),
        country=d.get("country"),
        tax_number=d.get("tax_number"),
        notes=d.get("notes"),
        archived_at=maybe_timestamp(getattr(c, "archived_at", None)),
        created_at=timestamp(c.created_at),
        updated_at=timestamp(c.updated_at),
    )


def payment(p: Payment) -> PaymentOut:
    return PaymentOut(
        id=str(p.id),
        amount=p.amount,
        payment_date=day(p.payment_date),
        payment_method=p.payment_method,
        reference=p.reference,
        recorded_at=timestamp(p.recorded_at),
    )


def invoice(inv: Invoice, today: date, payments: Any = None) -> InvoiceOut:
    """`payments`, if given, stands for the payments' list as it is (their JSON, say)."""
    totals = inv.totals
    return InvoiceOut(
        id=str(inv.id),
        invoice_number=inv.number,
        client_id=str(inv.client_id),
        status=inv.status,  # type: ignore[arg-type]
        issue_date=day(inv.issue_date),
        due_date=day(inv.due_date),
        currency=inv.currency,  # type: ignore[arg-type]
        tax_name=inv.tax_name,
        tax_rate=inv.tax_rate,
        line_items=[
            LineItemOut(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount(inv.currency),
            )
            for line in inv.line_items
        ],
        subtotal=totals.subtotal,
        tax_amount=totals.tax_amount,
        total=totals.total,
        amount_paid=totals.amount_paid,
        amount_due=totals.amount_due,
        payments=[payment(p) for p in inv.payments] if payments is None else payments,
        emails=[
            EmailDelivery(
                id=str(e.id),
                to_email=e.to_email,
                subject=e.subject,
                status=e.status,
                attempts=e.attempts,
                sent_at=maybe_timestamp(e.sent_at),
            )
            for e in getattr(inv, "emails", ())
        ],
        is_overdue=inv.is_overdue(today),
        notes=inv.notes,
        recurring_invoice_id=str(inv.recurring_invoice_id) if inv.recurring_invoice_id else None,
        sent_at=maybe_timestamp(inv.sent_at),
        paid_at=maybe_timestamp(inv.paid_at),
        voided_at=maybe_timestamp(inv.voided_at),
        created_at=timestamp(inv.created_at),
        updated_at=timestamp(inv.updated_at),
    )


def recurring(t: RecurringInvoice) -> RecurringOut:
    upcoming = t.next_run_date
    return RecurringOut(
        id=str(t.id),
        client_id=str(t.client_id),
        frequency=t.frequency,  # type: ignore[arg-type]
        interval=t.interval,
        start_date=day(t.start_date),
        end_date=day(t.end_date) if t.end_date else None,
        max_occurrences=t.max_occurrences,
        currency=t.currency,  # type: ignore[arg-type]
        tax_name=t.tax_name,
        tax_rate=t.tax_rate,
        line_items=[
            TemplateLineOut(description=x.description, quantity=x.quantity, unit_price=x.unit_price)
            for x in t.line_items
        ],
        notes=t.notes,
        payment_terms_days=t.payment_terms_days,
        auto_send=t.auto_send,
        status=t.status,  # type: ignore[arg-type]
        next_run_date=day(upcoming) if upcoming else None,
        occurrences_generated=t.occurrences_generated,
        last_invoice_id=str(t.last_invoice_id) if t.last_invoice_id else None,
        created_at=timestamp(t.created_at),
        updated_at=timestamp(t.updated_at),
    )


def pagination(page: Page, limit: int) -> Pagination:
    more = page.next_cursor is not None if page.has_more is None else page.has_more
    return Pagination(limit=limit, has_more=more, next_cursor=page.next_cursor)
