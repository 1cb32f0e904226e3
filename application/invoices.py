"""Commands on invoices: create (with its number), edit, pay, void."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.base import ExperiBase, operation_id, retry_on_conflict
from domain.account import Account
from domain.client import Client
from domain.errors import InvalidInput, NotFound
from domain.invoice import DRAFT, Invoice
from domain.meta import Meta
from domain.numbering import InvoiceCounter, counter_id, format_number
from domain.values import LineItem, Payment

DEFAULT_TERMS_DAYS = 14


@dataclass(frozen=True)
class NewInvoice:
    """A validated request for a new invoice; dates left out take their defaults."""

    client_id: UUID
    line_items: tuple[LineItem, ...]
    issue_date: date | None = None
    due_date: date | None = None
    currency: str = "GBP"
    tax_name: str | None = None
    tax_rate: Decimal = Decimal(0)
    notes: str | None = None
    status: str = DRAFT
    recurring_invoice_id: UUID | None = None
    id: UUID = field(default_factory=uuid4)


class InvoiceCommands(ExperiBase):
    def create_invoice(self, account_id: UUID, new: NewInvoice, meta: Meta) -> Invoice:
        """Create an invoice with the account's next number, atomically with the number."""
        op = operation_id(meta)
        if op is not None:
            new = replace(new, id=op)
            earlier = self.earlier_result(Invoice, account_id, meta)
            if earlier is not None:
                return earlier
        with self.serialised(counter_id(account_id)):
            return self._create_invoice(account_id, new, meta)

    @retry_on_conflict
    def _create_invoice(self, account_id: UUID, new: NewInvoice, meta: Meta) -> Invoice:
        earlier = self.earlier_result(Invoice, account_id, meta)
        if earlier is not None:
            return earlier
        prefix, counter = self.numbering(account_id, new)
        invoice = self.build_invoice(account_id, new, meta, prefix, counter)
        # One save: the number and the invoice are stored together or not at all.
        self.save(counter, invoice)
        return invoice

    def numbering(self, account_id: UUID, new: NewInvoice) -> tuple[str, InvoiceCounter]:
        """What a new invoice's number comes from: the account's invoice prefix and its
        counter; and its client, checked. Read under the account's numbering lock, in
        one statement where rows are kept (on PostgreSQL, in the lock's round trip)."""
        # A template goes on invoicing a client archived after it was set up.
        recurring = new.recurring_invoice_id is not None
        loaded = self.from_rows(
            (Client, account_id, new.client_id),
            (Account, None, account_id),
            (InvoiceCounter, None, counter_id(account_id)),
        )
        if loaded is None:  # each from where its own load reads it
            self.check_client(account_id, new.client_id, allow_archived=recurring)
            prefix = self.get_typed(Account, account_id, "Account").invoice_prefix
            return prefix, self.invoice_counter(account_id)
        client, account, counter = loaded
        usable_client(client if isinstance(client, Client) else None, allow_archived=recurring)
        if not isinstance(account, Account):  # no row (yet): as `get_typed` finds it
            account = self.get_typed(Account, account_id, "Account")
        if not isinstance(counter, InvoiceCounter):  # none yet, or no row: as it is found
            counter = self.invoice_counter(account_id)
        return account.invoice_prefix, counter

    def build_invoice(
        self, account_id: UUID, new: NewInvoice, meta: Meta, prefix: str, counter: InvoiceCounter
    ) -> Invoice:
        """A new invoice with the account's next number from `counter`, not yet saved (nor
        is the number). `prefix` and `counter` are `numbering`'s answer."""
        now = self.clock.now()
        issue_date = new.issue_date or now.date()
        due_date = new.due_date or issue_date + timedelta(days=DEFAULT_TERMS_DAYS)
        Invoice.check_new(
            new.status, issue_date, due_date, new.line_items, new.tax_rate, new.currency
        )
        number = counter.take_next(new.id)
        return Invoice(
            id=new.id,
            account_id=account_id,
            number=format_number(prefix, number),
            client_id=new.client_id,
            issue_date=issue_date,
            due_date=due_date,
            currency=new.currency,
            tax_name=new.tax_name,
            tax_rate=new.tax_rate,
            line_items=new.line_items,
            notes=new.notes,
            status=new.status,
            recurring_invoice_id=new.recurring_invoice_id,
            at=now,
            meta=meta,
        )

    def invoice_counter(self, account_id: UUID) -> InvoiceCounter:
        counter = self.stored(InvoiceCounter, counter_id(account_id))
        if counter is None:
            return InvoiceCounter(account_id=account_id)
        if not isinstance(counter, InvoiceCounter):
            raise TypeError("invoice counter id collides with another aggregate")
        return counter

    def check_client(
        self, account_id: UUID, client_id: UUID, *, allow_archived: bool = False
    ) -> None:
        try:
            client = self.get_owned(Client, account_id, client_id, "Client")
        except NotFound:
            client = None
        usable_client(client, allow_archived=allow_archived)

    def get_invoice(self, account_id: UUID, invoice_id: UUID) -> Invoice:
        return self.get_owned(Invoice, account_id, invoice_id, "Invoice")

    @retry_on_conflict
    def update_invoice(
        self, account_id: UUID, invoice_id: UUID, changes: dict[str, Any], meta: Meta
    ) -> Invoice:
        invoice = self.get_invoice(account_id, invoice_id)
        invoice.check_is_draft("Only a DRAFT invoice can be edited")
        if "client_id" in changes:
            self.check_client(account_id, changes["client_id"])
        invoice.update(changes, self.clock.now(), meta)
        self.save(invoice)
        return invoice

    @retry_on_conflict
    def record_payment(
        self,
        account_id: UUID,
        invoice_id: UUID,
        amount: Decimal | None,
        payment_date: date | None,
        payment_method: str | None,
        reference: str | None,
        meta: Meta,
    ) -> tuple[Invoice, Payment]:
        invoice = self.get_invoice(account_id, invoice_id)
        op = operation_id(meta)
        payment_id = op or uuid4()
        for earlier in invoice.payments if op is not None else ():
            if earlier.id == payment_id:  # this operation already ran: its result stands
                return invoice, earlier
        now = self.clock.now()
        payment = invoice.record_payment(
            payment_id, amount, payment_date or now.date(), payment_method, reference, now, meta
        )
        self.save(invoice)
        return invoice, payment

    @retry_on_conflict
    def void_invoice(self, account_id: UUID, invoice_id: UUID, meta: Meta) -> Invoice:
        invoice = self.get_invoice(account_id, invoice_id)
        invoice.void(self.clock.now(), meta)
        self.save(invoice)
        return invoice


def usable_client(client: Client | None, *, allow_archived: bool) -> None:
    """A new invoice's client must be the account's own, and not archived (unless
    `allow_archived`)."""
    if client is None:
        raise InvalidInput.field("clientId", "No such client")
    if not allow_archived:
        client.check_not_archived()
