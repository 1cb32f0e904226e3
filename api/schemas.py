"""Response schemas (msgspec Structs): the JSON the API returns, in camelCase."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from api.fields import Currency, EmailOut, IdOut, Money, Rate, Timestamp

InvoiceStatus = Literal["DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID"]
ErrorCode = Literal[
    "validation_failed",
    "malformed_json",
    "rule_violated",
    "invalid_cursor",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "request_timeout",
    "state_conflict",
    "invoice_not_draft",
    "idempotency_request_in_flight",
    "payload_too_large",
    "unsupported_media_type",
    "idempotency_key_reused",
    "rate_limited",
    "internal_error",
    "service_unavailable",
]


class Struct(msgspec.Struct, rename="camel", kw_only=True):
    pass


class ClientOut(Struct):
    id: IdOut
    name: str
    company: str | None
    email: EmailOut | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    county: str | None
    postcode: str | None
    country: str | None
    tax_number: str | None
    notes: str | None
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    # Only on a read with `?asOf=`: the moment the client stood as returned.
    as_of: Timestamp | msgspec.UnsetType = msgspec.UNSET


class LineItemOut(Struct):
    description: str
    quantity: Money
    unit_price: Money
    amount: Money


class PaymentOut(Struct):
    id: IdOut
    amount: Money
    payment_date: Timestamp
    payment_method: str | None
    reference: str | None
    recorded_at: Timestamp


class EmailDelivery(Struct):
    id: IdOut
    to_email: EmailOut
    subject: str
    status: Literal["QUEUED", "SENT", "FAILED"]
    attempts: int
    sent_at: Timestamp | None


class InvoiceOut(Struct):
    id: IdOut
    invoice_number: str
    client_id: IdOut
    status: InvoiceStatus
    issue_date: Timestamp
    due_date: Timestamp
    currency: Currency
    tax_name: str | None
    tax_rate: Rate
    line_items: list[LineItemOut]
    subtotal: Money
    tax_amount: Money
    total: Money
    amount_paid: Money
    amount_due: Money
    payments: list[PaymentOut]
    emails: list[EmailDelivery]
    is_overdue: bool
    notes: str | None
    recurring_invoice_id: IdOut | None
    sent_at: Timestamp | None
    paid_at: Timestamp | None
    voided_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    # Only on a read with `?asOf=`: the moment the invoice stood as returned.
    as_of: Timestamp | msgspec.UnsetType = msgspec.UNSET


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
    total_due: dict[str, Money]


class OutstandingList(Struct):
    data: list[InvoiceOut]
    pagination: Pagination
    summary: OutstandingSummary


class ErrorBody(Struct):
    message: str
    status_code: int
    code: ErrorCode
    request_id: str
    details: dict[str, Any]


class ErrorOut(Struct):
    error: ErrorBody


class Health(Struct):
    status: Literal["ok"]


class Actor(Struct):
    type: Literal["api_key", "user", "system"]
    id: str | None
    name: str | None


class AuditEntry(Struct):
    id: str
    occurred_at: Timestamp
    action: str
    entity_type: str
    entity_id: str
    actor: Actor
    request_id: str | None
    ip: str | None
    user_agent: str | None
    data: dict[str, Any]
    # In an invoice's or a client's history: the resource as it stood after this entry.
    as_of_url: str | msgspec.UnsetType = msgspec.UNSET


class AuditList(Struct):
    data: list[AuditEntry]
    pagination: Pagination


class AuditDigest(Struct):
    """The signed head of the account's audit hash chain (see the README's Audit section)."""

    length: int
    head_hash: str
    signed_at: Timestamp
    signature: str
    public_key_id: str


class AccountOut(Struct):
    id: IdOut
    name: str
    plan: Literal["FREE", "PRO"]
    api_access: Literal["NONE", "REQUESTED", "APPROVED"]
    business_name: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    email: EmailOut | None
    phone: str | None
    tax_number: str | None
    payment_instructions: str | None
    invoice_prefix: str


class TemplateLineOut(Struct):
    description: str
    quantity: Money
    unit_price: Money


class RecurringOut(Struct):
    id: IdOut
    client_id: IdOut
    frequency: Literal["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY"]
    interval: int
    start_date: Timestamp
    end_date: Timestamp | None
    max_occurrences: int | None
    currency: Currency
    tax_name: str | None
    tax_rate: Rate
    line_items: list[TemplateLineOut]
    notes: str | None
    payment_terms_days: int
    auto_send: bool
    status: Literal["ACTIVE", "PAUSED", "ENDED"]
    next_run_date: Timestamp | None
    occurrences_generated: int
    last_invoice_id: IdOut | None
    created_at: Timestamp
    updated_at: Timestamp


class RecurringList(Struct):
    data: list[RecurringOut]
    pagination: Pagination
