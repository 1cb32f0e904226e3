"""Recurring invoices: templates, and generating each due occurrence exactly once."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.base import operation_id, retry_on_conflict
from application.invoices import InvoiceCommands, NewInvoice
from application.ports import RateLimited
from application.sending import SendCommands
from domain.account import Account
from domain.client import Client
from domain.errors import NotFound
from domain.invoice import Invoice
from domain.meta import Meta, system_meta
from domain.numbering import counter_id
from domain.recurring import (
    MAX_PER_PASS,
    NO_EMAIL_REASON,
    OVER_CAP_REASON,
    STALE_REASON,
    RecurringInvoice,
    occurrence_invoice_id,
)
from domain.values import LineItem

SCHEDULER = system_meta("recurring-scheduler")


@dataclass(frozen=True)
class NewRecurring:
    client_id: UUID
    frequency: str
    interval: int
    start_date: date
    line_items: tuple[LineItem, ...]
    end_date: date | None = None
    max_occurrences: int | None = None
    currency: str = "GBP"
    tax_name: str | None = None
    tax_rate: Decimal = Decimal(0)
    notes: str | None = None
    payment_terms_days: int = 14
    auto_send: bool = False


class RecurringCommands(InvoiceCommands, SendCommands):
    @retry_on_conflict
    def create_recurring(self, account_id: UUID, new: NewRecurring, meta: Meta) -> RecurringInvoice:
        earlier = self.earlier_result(RecurringInvoice, account_id, meta)
        if earlier is not None:
            return earlier
        self.check_client(account_id, new.client_id)
        RecurringInvoice.check_new(new.start_date, new.end_date)
        template = RecurringInvoice(
            id=operation_id(meta) or uuid4(),
            account_id=account_id,
            client_id=new.client_id,
            frequency=new.frequency,
            interval=new.interval,
            start_date=new.start_date,
            end_date=new.end_date,
            max_occurrences=new.max_occurrences,
            currency=new.currency,
            tax_name=new.tax_name,
            tax_rate=new.tax_rate,
            line_items=new.line_items,
            notes=new.notes,
            payment_terms_days=new.payment_terms_days,
            auto_send=new.auto_send,
            at=self.clock.now(),
            meta=meta,
        )
        self.save(template)
        return template

    def get_recurring(self, account_id: UUID, template_id: UUID) -> RecurringInvoice:
        return self.get_owned(RecurringInvoice, account_id, template_id, "Recurring invoice")

    @retry_on_conflict
    def update_recurring(
        self, account_id: UUID, template_id: UUID, changes: dict[str, Any], meta: Meta
    ) -> RecurringInvoice:
        template = self.get_recurring(account_id, template_id)
        if "client_id" in changes:
            self.check_client(account_id, changes["client_id"])
        template.update(changes, self.clock.now(), meta)
        self.save(template)
        return template

    @retry_on_conflict
    def change_recurring_status(
        self, account_id: UUID, template_id: UUID, action: str, meta: Meta
    ) -> RecurringInvoice:
        template = self.get_recurring(account_id, template_id)
        {"pause": template.pause, "resume": template.resume, "end": template.end}[action](
            self.clock.now(), meta
        )
        self.save(template)
        return template

    def generate_due(self, template_id: UUID, today: date, limit: int = MAX_PER_PASS) -> int:
        """Generate the occurrences due by `today` (catching up missed ones), at most
        `limit` of them: a later pass goes on where this one stopped."""
        try:
            template = self.get_typed(RecurringInvoice, template_id, "Recurring invoice")
        except NotFound:
            return 0
        held = _Held(template_id, template)
        generated = 0
        while generated < limit:
            with self.serialised(counter_id(template.account_id)):
                if not self._generate_next(held, today):
                    break
            generated += 1
        return generated

    @retry_on_conflict
    def _generate_next(self, held: _Held, today: date) -> bool:
        """One occurrence, saved atomically with its number (and its email, if any).

        The invoice's id is derived from (template, occurrence), so if another process
        generated it first this save conflicts, and the retry finds it already done.
        """
        template = held.take() or self.get_typed(
            RecurringInvoice, held.template_id, "Recurring invoice"
        )
        if not template.is_due(today):
            return False
        k = template.occurrences_generated
        issue_date = template.occurrence_date(k)
        invoice_id = occurrence_invoice_id(template.id, k)
        new = NewInvoice(
            id=invoice_id,
            client_id=template.client_id,
            line_items=template.line_items,
            issue_date=issue_date,
            due_date=issue_date + timedelta(days=template.payment_terms_days),
            currency=template.currency,
            tax_name=template.tax_name,
            tax_rate=template.tax_rate,
            notes=template.notes,
            recurring_invoice_id=template.id,
        )
        prefix, counter = self.numbering(template.account_id, new)
        invoice = self.build_invoice(template.account_id, new, SCHEDULER, prefix, counter)
        now = self.clock.now()
        template.record_generated(invoice_id, issue_date, now, SCHEDULER)
        with ExitStack() as queued:
            if template.auto_send:
                reason = self._auto_send(template, invoice, today, queued)
                if reason is not None:
                    template.record_auto_send_skipped(invoice_id, reason, now, SCHEDULER)
            self.save(counter, invoice, template)
        held.keep(template)
        return True

    def _auto_send(
        self, template: RecurringInvoice, invoice: Invoice, today: date, queued: ExitStack
    ) -> str | None:
        """Queue the new invoice's email, counted until `queued` closes; or say why not."""
        if template.too_old_to_auto_send(invoice.issue_date, today):
            return STALE_REASON
        client = self.get_typed(Client, template.client_id, "Client")
        if not client.email:
            return NO_EMAIL_REASON
        account = self.get_typed(Account, template.account_id, "Account")
        email = self.build_email(invoice, account, client.email, None, None)
        try:
            queued.enter_context(self.counted_send(template.account_id, email))
        except RateLimited:
            return OVER_CAP_REASON
        invoice.send(email, self.clock.now(), SCHEDULER)
        return None


class _Held:
    """The template as this pass last saved it. While no one else writes to it, the
    next occurrence starts from it instead of replaying the template's whole history
    (which would make a long catch-up quadratic); an attempt that fails drops it, so
    its retry reads the template afresh."""

    def __init__(self, template_id: UUID, template: RecurringInvoice | None) -> None:
        self.template_id = template_id
        self._template = template

    def take(self) -> RecurringInvoice | None:
        template, self._template = self._template, None
        return template

    def keep(self, template: RecurringInvoice) -> None:
        self._template = template
