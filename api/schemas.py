"""Response schemas (msgspec Structs): the JSON the API returns, in camelCase."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec


class Struct(msgspec.Struct, rename="camel", kw_only=True):
    pass


class ClientOut(Struct):
    id: str
    name: str
    company: str | None
    email: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    county: str | None
    postcode: str | None
    country: str | None
    tax_number: str | None
    notes: str | None
    created_at: str
    updated_at: str


class LineItemOut(Struct):
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class PaymentOut(Struct):
    id: str
    amount: Decimal
    payment_date: str
    payment_method: str | None
    reference: str | None
    recorded_at: str


class EmailOut(Struct):
    id: str
    to_email: str
    subject: str
    status: str
    attempts: int
    sent_at: str | None


class InvoiceOut(Struct):
    id: str
    invoice_number: str
    client_id: str
    status: str
    issue_date: str
    due_date: str
    currency: str
    tax_name: str | None
    tax_rate: Decimal
    line_items: list[LineItemOut]
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    payments: list[PaymentOut]
    emails: list[EmailOut]
    is_overdue: bool
    notes: str | None
    recurring_invoice_id: str | None
    sent_at: str | None
    paid_at: str | None
    voided_at: str | None
    created_at: str
    updated_at: str


class Pagination(Struct):
    limit: int
    has_more: bool
    next_cursor: str | None


class ClientList(Struct):
    data: list[ClientOut]
    pagination: Pagination


class InvoiceList(Struct):
    data: list[InvoiceOut]
    pagination: Pagination


class OutstandingSummary(Struct):
    count: int
    total_due: dict[str, Decimal]


class OutstandingList(Struct):
    data: list[InvoiceOut]
    pagination: Pagination
    summary: OutstandingSummary


class ErrorBody(Struct):
    message: str
    status_code: int
    details: dict[str, Any]


class ErrorOut(Struct):
    error: ErrorBody


class Health(Struct):
    status: str


class Actor(Struct):
    type: str
    id: str | None
    name: str | None


class AuditEntry(Struct):
    id: str
    occurred_at: str
    action: str
    entity_type: str
    entity_id: str
    actor: Actor
    request_id: str | None
    ip: str | None
    user_agent: str | None
    data: dict[str, Any]


class AuditList(Struct):
    data: list[AuditEntry]
    pagination: Pagination


class AccountOut(Struct):
    id: str
    name: str
    plan: str
    api_access: str
    business_name: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    email: str | None
    phone: str | None
    tax_number: str | None
    payment_instructions: str | None
    invoice_prefix: str


class TemplateLineOut(Struct):
    description: str
    quantity: Decimal
    unit_price: Decimal


class RecurringOut(Struct):
    id: str
    client_id: str
    frequency: str
    interval: int
    start_date: str
    end_date: str | None
    max_occurrences: int | None
    currency: str
    tax_name: str | None
    tax_rate: Decimal
    line_items: list[TemplateLineOut]
    notes: str | None
    payment_terms_days: int
    auto_send: bool
    status: str
    next_run_date: str | None
    occurrences_generated: int
    last_invoice_id: str | None
    created_at: str
    updated_at: str


class RecurringList(Struct):
    data: list[RecurringOut]
    pagination: Pagination
