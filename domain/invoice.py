"""The Invoice aggregate: its lifecycle DRAFT -> SENT -> PARTIALLY_PAID -> PAID, or VOID."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import money
from domain.errors import InvalidInput, InvoiceNotDraft, StateConflict
from domain.meta import Meta
from domain.values import DELIVERED, FAILED, Email, LineItem, Payment, Totals, compute_totals

DRAFT, SENT, PARTIALLY_PAID, PAID, VOID = "DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID"
STATUSES = (DRAFT, SENT, PARTIALLY_PAID, PAID, VOID)
OPEN_STATUSES = (SENT, PARTIALLY_PAID)


def overdue(status: str, due_date: date, today: date) -> bool:
    """An issued invoice with an amount due is overdue once its due date has passed."""
    return status in OPEN_STATUSES and due_date < today


# The fields a DRAFT invoice's update may change.
# Totals beyond this are refused: they are typing mistakes, and sums stay exact below it.
MAX_TOTAL = Decimal("1000000000000")

EDITABLE = frozenset(
    {
        "client_id",
        "issue_date",
        "due_date",
        "currency",
        "tax_name",
        "tax_rate",
        "line_items",
        "notes",
    }
)


class Invoice(Aggregate):
    """An invoice of one account to one of its clients."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        number: str,
        client_id: UUID,
        issue_date: date,
        due_date: date,
        currency: str,
        tax_name: str | None,
        tax_rate: Decimal,
        line_items: tuple[LineItem, ...],
        notes: str | None,
        status: str,
        recurring_invoice_id: UUID | None,
        at: datetime,
        meta: Meta,
    ) -> None:
        self.account_id = account_id
        self.number = number
        self.client_id = client_id
        self.issue_date = issue_date
        self.due_date = due_date
        self.currency = currency
        self.tax_name = tax_name
        self.tax_rate = tax_rate
        self.line_items = tuple(line_items)
        self.notes = notes
        self.status = status
        self.recurring_invoice_id = recurring_invoice_id
        self.payments: tuple[Payment, ...] = ()
        self.emails: tuple[Email, ...] = ()
        self.created_at = at
        self.updated_at = at
        self.sent_at: datetime | None = at if status == SENT else None
        self.paid_at: datetime | None = None
        self.voided_at: datetime | None = None

    @staticmethod
    def check_new(
        status: str,
        issue_date: date,
        due_date: date,
        lines: tuple[LineItem, ...],
        tax_rate: Decimal,
        currency: str,
    ) -> None:
        """The rules for a new invoice, checked before a number is taken for it."""
        if status not in (DRAFT, SENT):
            raise InvalidInput.field("status", "Must be DRAFT or SENT when creating an invoice")
        check_dates(issue_date, due_date)
        check_total(lines, tax_rate, currency)

    @property
    def totals(self) -> Totals:
        return compute_totals(self.line_items, self.tax_rate, self.currency, self.payments)

    def is_overdue(self, today: date) -> bool:
        return overdue(self.status, self.due_date, today)

    # Commands

    def update(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        self.check_is_draft("Only a DRAFT invoice can be edited")
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        check_dates(
            changes.get("issue_date", self.issue_date),
            changes.get("due_date", self.due_date),
        )
        check_total(
            tuple(changes.get("line_items", self.line_items)),
            changes.get("tax_rate", self.tax_rate),
            changes.get("currency", self.currency),
        )
        if changes:
            self._updated(changes=changes, at=at, meta=meta)

    def issue(self, at: datetime, meta: Meta) -> None:
        """Mark a DRAFT as SENT without emailing it."""
        self.check_is_draft("Only a DRAFT invoice can be issued")
        self._issued(at=at, meta=meta)

    def record_payment(
        self,
        payment_id: UUID,
        amount: Decimal | None,
        payment_date: date,
        payment_method: str | None,
        reference: str | None,
        at: datetime,
        meta: Meta,
    ) -> Payment:
        if self.status == PAID:
            raise StateConflict("Invoice is already paid")
        if self.status == VOID:
            raise StateConflict("Invoice is void")
        due = self.totals.amount_due
        amount = due if amount is None else amount
        check_payment_amount(amount, due, self.currency)
        amount = money.round_money(amount, self.currency)  # exact: only fixes the digits
        if self.status == DRAFT:
            self._issued(at=at, meta=meta)
        payment = Payment(payment_id, amount, payment_date, payment_method, reference, at)
        self._payment_recorded(payment=payment, at=at, meta=meta)
        return payment

    def void(self, at: datetime, meta: Meta) -> None:
        if self.status == VOID:
            raise StateConflict("Invoice is already void")
        if self.payments:
            raise StateConflict("An invoice with payments cannot be voided")
        self._voided(at=at, meta=meta)

    def send(self, email: Email, at: datetime, meta: Meta) -> None:
        """Queue an email of this invoice; a DRAFT becomes SENT. Sending again re-sends."""
        if self.status == VOID:
            raise StateConflict("A void invoice cannot be sent")
        self._sent(email=email, at=at, meta=meta)

    def email(self, email_id: UUID) -> Email:
        for email in self.emails:
            if email.id == email_id:
                return email
        raise KeyError(email_id)

    def record_delivery(self, email_id: UUID, at: datetime, meta: Meta) -> None:
        if self.email(email_id).status == DELIVERED:
            return
        self._email_delivered(email_id=email_id, at=at, meta=meta)

    def record_attempt_failure(
        self, email_id: UUID, error: str, retry_at: datetime | None, at: datetime, meta: Meta
    ) -> None:
        """A failed attempt: retried at `retry_at`, or given up when that is None."""
        if self.email(email_id).status != "QUEUED":
            return
        if retry_at is None:
            self._email_failed(email_id=email_id, error=error, at=at, meta=meta)
        else:
            self._email_attempt_failed(
                email_id=email_id, error=error, retry_at=retry_at, at=at, meta=meta
            )

    def check_is_draft(self, message: str) -> None:
        if self.status != DRAFT:
            raise InvoiceNotDraft(f"{message}; this invoice is {self.status}")

    # Events

    @event("Updated")
    def _updated(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name == "line_items" else value)
        self.updated_at = at

    @event("Issued")
    def _issued(self, at: datetime, meta: Meta) -> None:
        self.status = SENT
        self.sent_at = at
        self.updated_at = at

    @event("PaymentRecorded")
    def _payment_recorded(self, payment: Payment, at: datetime, meta: Meta) -> None:
        self.payments = (*self.payments, payment)
        if self.totals.amount_due <= 0:
            self.status = PAID
            # When the money arrived (the final payment's date), not when it was recorded.
            self.paid_at = datetime.combine(payment.payment_date, time(0), UTC)
        else:
            self.status = PARTIALLY_PAID
        self.updated_at = at

    @event("Sent")
    def _sent(self, email: Email, at: datetime, meta: Meta) -> None:
        if self.status == DRAFT:
            self.status = SENT
            self.sent_at = at
        self.emails = (*self.emails, email)
        self.updated_at = at

    def _replace_email(self, email_id: UUID, **changes: Any) -> None:
        self.emails = tuple(replace(e, **changes) if e.id == email_id else e for e in self.emails)

    @event("EmailDelivered")
    def _email_delivered(self, email_id: UUID, at: datetime, meta: Meta) -> None:
        attempts = self.email(email_id).attempts + 1
        self._replace_email(email_id, status=DELIVERED, attempts=attempts, sent_at=at)

    @event("EmailAttemptFailed")
    def _email_attempt_failed(
        self, email_id: UUID, error: str, retry_at: datetime, at: datetime, meta: Meta
    ) -> None:
        attempts = self.email(email_id).attempts + 1
        self._replace_email(email_id, attempts=attempts, last_error=error)

    @event("EmailFailed")
    def _email_failed(self, email_id: UUID, error: str, at: datetime, meta: Meta) -> None:
        attempts = self.email(email_id).attempts + 1
        self._replace_email(email_id, status=FAILED, attempts=attempts, last_error=error)

    @event("Voided")
    def _voided(self, at: datetime, meta: Meta) -> None:
        self.status = VOID
        self.voided_at = at
        self.updated_at = at


def check_dates(issue_date: date, due_date: date) -> None:
    if due_date < issue_date:
        raise InvalidInput.field("dueDate", "Must not be before issueDate")


def check_total(lines: tuple[LineItem, ...], tax_rate: Decimal, currency: str) -> None:
    if compute_totals(lines, tax_rate, currency).total >= MAX_TOTAL:
        raise InvalidInput.field("lineItems", f"The invoice total must be less than {MAX_TOTAL}")


def check_payment_amount(amount: Decimal, due: Decimal, currency: str) -> None:
    if amount <= 0:
        raise InvalidInput.field("amount", "Must be greater than 0")
    if not money.fits_currency(amount, currency):
        places = money.minor_units(currency)
        raise InvalidInput.field(
            "amount", f"Must have at most {places} decimal places for {currency}"
        )
    if amount > due:
        raise InvalidInput.field("amount", f"Must not be more than the amount due ({due})")
