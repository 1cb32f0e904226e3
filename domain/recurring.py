"""The RecurringInvoice aggregate: a template that becomes one invoice per occurrence."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, StateConflict
from domain.meta import Meta
from domain.schedule import occurrence
from domain.values import LineItem

ACTIVE, PAUSED, ENDED = "ACTIVE", "PAUSED", "ENDED"
SCHEDULE_FIELDS = frozenset({"frequency", "interval", "start_date"})
OCCURRENCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/recurring-occurrence")
# One pass generates at most this many occurrences of a template; the next pass goes on.
MAX_PER_PASS = 500
# An occurrence older than this is a catch-up: emailing it now would surprise the client.
AUTO_SEND_MAX_AGE = timedelta(days=7)
STALE_REASON = "not sent: occurrence dated more than 7 days ago; the invoice stays DRAFT"
NO_EMAIL_REASON = "not sent: the client has no email address; the invoice stays DRAFT"
OVER_CAP_REASON = "not sent: the account's email sending limit was reached; the invoice stays DRAFT"


def occurrence_invoice_id(template_id: UUID, k: int) -> UUID:
    """The id of the invoice for occurrence k: a second one is a conflict, never a copy."""
    return uuid5(OCCURRENCE_NAMESPACE, f"{template_id}:{k}")


class RecurringInvoice(Aggregate):
    @event("Created")
    def __init__(
        self,
        id: UUID,
        account_id: UUID,
        client_id: UUID,
        frequency: str,
        interval: int,
        start_date: date,
        end_date: date | None,
        max_occurrences: int | None,
        currency: str,
        tax_name: str | None,
        tax_rate: Decimal,
        line_items: tuple[LineItem, ...],
        notes: str | None,
        payment_terms_days: int,
        auto_send: bool,
        at: datetime,
        meta: Meta,
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.frequency = frequency
        self.interval = interval
        self.start_date = start_date
        self.end_date = end_date
        self.max_occurrences = max_occurrences
        self.currency = currency
        self.tax_name = tax_name
        self.tax_rate = tax_rate
        self.line_items = tuple(line_items)
        self.notes = notes
        self.payment_terms_days = payment_terms_days
        self.auto_send = auto_send
        self.status = ACTIVE
        self.occurrences_generated = 0
        self.last_invoice_id: UUID | None = None
        self.created_at = at
        self.updated_at = at
        if not self.has_more:
            self.status = ENDED

    @staticmethod
    def check_new(start_date: date, end_date: date | None) -> None:
        check_end(start_date, end_date)

    def occurrence_date(self, k: int) -> date:
        when = self._occurrence_or_none(k)
        if when is None:
            raise StateConflict("This occurrence lies beyond the last date a schedule can reach")
        return when

    def _occurrence_or_none(self, k: int) -> date | None:
        try:
            return occurrence(self.start_date, self.frequency, self.interval, k)
        except (OverflowError, ValueError):
            return None  # past year 9999: the schedule has no such occurrence

    @property
    def has_more(self) -> bool:
        k = self.occurrences_generated
        if self.max_occurrences is not None and k >= self.max_occurrences:
            return False
        upcoming = self._occurrence_or_none(k)
        return upcoming is not None and (self.end_date is None or upcoming <= self.end_date)

    @property
    def next_run_date(self) -> date | None:
        if self.status == ENDED or not self.has_more:
            return None
        return self.occurrence_date(self.occurrences_generated)

    def is_due(self, today: date) -> bool:
        upcoming = self.next_run_date
        return self.status == ACTIVE and upcoming is not None and upcoming <= today

    @staticmethod
    def too_old_to_auto_send(issue_date: date, today: date) -> bool:
        """A caught-up occurrence dated more than 7 days before the pass stays a DRAFT."""
        return today - issue_date > AUTO_SEND_MAX_AGE

    # Commands

    def update(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        if self.status == ENDED:
            raise StateConflict("An ended recurring invoice cannot be changed")
        if self.occurrences_generated and SCHEDULE_FIELDS & set(changes):
            raise StateConflict(
                "frequency, interval and startDate cannot change once invoices were generated"
            )
        check_end(
            changes.get("start_date", self.start_date), changes.get("end_date", self.end_date)
        )
        limit = changes.get("max_occurrences", self.max_occurrences)
        if limit is not None and limit < self.occurrences_generated:
            raise InvalidInput.field(
                "maxOccurrences",
                f"Must be at least the {self.occurrences_generated} occurrences already generated",
            )
        if changes:
            self._updated(changes=changes, at=at, meta=meta)
        if not self.has_more:
            self._ended(reason="schedule complete", at=at, meta=meta)

    def pause(self, at: datetime, meta: Meta) -> None:
        self.check_not_ended()
        if self.status == ACTIVE:
            self._paused(at=at, meta=meta)

    def resume(self, at: datetime, meta: Meta) -> None:
        self.check_not_ended()
        if self.status == PAUSED:
            self._resumed(at=at, meta=meta)

    def end(self, at: datetime, meta: Meta) -> None:
        self.check_not_ended()
        self._ended(reason="ended by request", at=at, meta=meta)

    def record_generated(
        self, invoice_id: UUID, issue_date: date, at: datetime, meta: Meta
    ) -> None:
        k = self.occurrences_generated
        if invoice_id != occurrence_invoice_id(self.id, k):
            raise ValueError("the invoice of an occurrence must have the occurrence's id")
        self._invoice_generated(
            occurrence=k, invoice_id=invoice_id, issue_date=issue_date, at=at, meta=meta
        )
        if not self.has_more:
            self._ended(reason="schedule complete", at=at, meta=meta)

    def record_auto_send_skipped(
        self, invoice_id: UUID, reason: str, at: datetime, meta: Meta
    ) -> None:
        self._auto_send_skipped(invoice_id=invoice_id, reason=reason, at=at, meta=meta)

    def check_not_ended(self) -> None:
        if self.status == ENDED:
            raise StateConflict("This recurring invoice has ended")

    # Events

    @event("Updated")
    def _updated(self, changes: dict[str, Any], at: datetime, meta: Meta) -> None:
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name == "line_items" else value)
        self.updated_at = at

    @event("Paused")
    def _paused(self, at: datetime, meta: Meta) -> None:
        self.status = PAUSED
        self.updated_at = at

    @event("Resumed")
    def _resumed(self, at: datetime, meta: Meta) -> None:
        self.status = ACTIVE
        self.updated_at = at

    @event("Ended")
    def _ended(self, reason: str, at: datetime, meta: Meta) -> None:
        self.status = ENDED
        self.updated_at = at

    @event("InvoiceGenerated")
    def _invoice_generated(
        self, occurrence: int, invoice_id: UUID, issue_date: date, at: datetime, meta: Meta
    ) -> None:
        self.occurrences_generated = occurrence + 1
        self.last_invoice_id = invoice_id
        self.updated_at = at

    @event("AutoSendSkipped")
    def _auto_send_skipped(self, invoice_id: UUID, reason: str, at: datetime, meta: Meta) -> None:
        self.updated_at = at


def check_end(start_date: date, end_date: date | None) -> None:
    if end_date is not None and end_date < start_date:
        raise InvalidInput.field("endDate", "Must not be before startDate")
