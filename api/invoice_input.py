"""Validation of invoice and payment request bodies and of the invoice list filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request

from api.validation import MISSING, Reader, parse_date, parse_uuid, present
from application.invoices import NewInvoice
from application.ports import InvoiceFilter
from domain.errors import InvalidInput
from domain.invoice import DRAFT, SENT, STATUSES
from domain.values import LineItem

INVOICE_FIELDS = (
    "clientId",
    "issueDate",
    "dueDate",
    "currency",
    "taxName",
    "taxRate",
    "lineItems",
    "notes",
    "status",
)
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("1000000000")


def read_line(r: Reader) -> LineItem | None:
    r.only(("description", "quantity", "unitPrice"))
    description = r.string("description", required=True, nullable=False, max_len=500)
    quantity = r.decimal(
        "quantity", required=True, exclusive_minimum=Decimal(0), maximum=MAX_QUANTITY
    )
    unit_price = r.decimal("unitPrice", required=True, minimum=Decimal(0), maximum=MAX_UNIT_PRICE)
    if MISSING in (description, quantity, unit_price):
        return None
    return LineItem(description, quantity, unit_price)


def read_invoice_fields(r: Reader, *, partial: bool) -> dict[str, Any]:
    """The invoice fields in domain names (MISSING ones left out)."""
    lines = r.items("lineItems", read_line, required=not partial, lo=1, hi=500)
    return present(
        {
            "client_id": r.uuid("clientId", required=not partial),
            "issue_date": r.date("issueDate"),
            "due_date": r.date("dueDate"),
            "currency": r.currency("currency"),
            "tax_name": r.string("taxName", max_len=50),
            "tax_rate": r.decimal("taxRate", minimum=Decimal(0), maximum=Decimal(100)),
            "line_items": tuple(lines) if lines is not MISSING else MISSING,
            "notes": r.string("notes", max_len=5000),
        }
    )


def read_new_invoice(data: Any) -> NewInvoice:
    r = Reader(data)
    r.only(INVOICE_FIELDS)
    fields = read_invoice_fields(r, partial=False)
    status = r.choice("status", (DRAFT, SENT))
    r.check()
    if status is not MISSING:
        fields["status"] = status
    return NewInvoice(**fields)


def read_invoice_changes(data: Any) -> dict[str, Any]:
    r = Reader(data)
    if "status" in r.data:
        r.fail("status", "Cannot be changed here: use /send, /paid or /void")
    r.only((*INVOICE_FIELDS,))
    changes = read_invoice_fields(r, partial=True)
    r.check()
    return changes


def read_payment(data: Any) -> dict[str, Any]:
    r = Reader(data)
    r.only(("amount", "paymentDate", "paymentMethod", "reference"))
    values = {
        "amount": r.decimal("amount", exclusive_minimum=Decimal(0), maximum=Decimal("1e12")),
        "payment_date": r.date("paymentDate"),
        "payment_method": r.string("paymentMethod", max_len=100),
        "reference": r.string("reference", max_len=200),
    }
    r.check()
    return {k: (None if v is MISSING else v) for k, v in values.items()}


def read_filter(request: Request[Any, Any, Any], today: date) -> InvoiceFilter:
    q = request.query_params
    errors: dict[str, list[str]] = {}
    status = q.get("status")
    if status is not None and status not in (*STATUSES, "OVERDUE"):
        errors["status"] = [f"Must be one of {', '.join((*STATUSES, 'OVERDUE'))}"]
    client_id: UUID | None = None
    if q.get("clientId") is not None:
        client_id = parse_uuid(q.get("clientId"))
        if client_id is None:
            errors["clientId"] = ["Must be a UUID"]
    dates: dict[str, date | None] = {}
    for name in ("issueDateFrom", "issueDateTo", "dueDateFrom", "dueDateTo"):
        raw = q.get(name)
        dates[name] = parse_date(raw) if raw is not None else None
        if raw is not None and dates[name] is None:
            errors[name] = ["Must be a date (YYYY-MM-DD) or an RFC 3339 date-time"]
    if errors:
        raise InvalidInput("Validation failed", errors)
    return InvoiceFilter(
        status=None if status == "OVERDUE" else status,
        overdue_on=today if status == "OVERDUE" else None,
        client_id=client_id,
        issue_date_from=dates["issueDateFrom"],
        issue_date_to=dates["issueDateTo"],
        due_date_from=dates["dueDateFrom"],
        due_date_to=dates["dueDateTo"],
    )
