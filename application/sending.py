"""Sending invoices: queue an email (an event), then deliver it with retries."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from application.base import ExperiBase, operation_id, retry_on_conflict
from application.ports import InvoiceDocument, Mailer, OutgoingEmail, SendQuota
from domain import money
from domain.account import Account
from domain.client import Client
from domain.errors import InvalidInput
from domain.invoice import Invoice
from domain.meta import Meta, system_meta
from domain.values import QUEUED, Email

DELIVERY_ACTOR = system_meta("email-delivery")
log = logging.getLogger("experi.sending")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often and how patiently an email is retried."""

    max_attempts: int = 8
    base_delay: float = 30.0  # seconds; doubles after each failed attempt

    def delay_after(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.base_delay * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: delivered, retry later (at), or gave up."""

    outcome: str  # "delivered", "retry", "failed", "skipped"
    retry_in: timedelta | None = None


class SendCommands(ExperiBase):
    mailer: Mailer | None = None
    document: InvoiceDocument | None = None
    email_from: str = "invoices@localhost"
    delivery_policy: DeliveryPolicy = DeliveryPolicy()
    send_quota: SendQuota | None = None  # no caps unless one is configured

    @retry_on_conflict
    def send_invoice(
        self,
        account_id: UUID,
        invoice_id: UUID,
        to_email: str | None,
        subject: str | None,
        body: str | None,
        meta: Meta,
    ) -> Invoice:
        invoice = self.get_owned(Invoice, account_id, invoice_id, "Invoice")
        email_id = operation_id(meta) or uuid4()
        if any(e.id == email_id for e in invoice.emails):
            return invoice  # this operation already queued its email
        account = self.get_typed(Account, account_id, "Account")
        client = self.get_owned(Client, account_id, invoice.client_id, "Client")
        address = to_email or client.email
        if not address:
            raise InvalidInput.field("toEmail", "The client has no email address: give toEmail")
        email = self.build_email(invoice, account, address, subject, body, email_id)
        invoice.send(email, self.clock.now(), meta)
        with self.counted_send(account_id, email):
            self.save(invoice)
        return invoice

    @contextmanager
    def counted_send(self, account_id: UUID, email: Email) -> Iterator[None]:
        """Count `email` against the account's sending caps (RateLimited when one is
        reached) for a block that queues it; if the block fails, nothing was queued,
        so the email is not counted either."""
        quota = self.send_quota
        if quota is None:
            yield
            return
        quota.reserve(email.id, account_id, email.to_email, self.clock.now().timestamp())
        try:
            yield
        except BaseException:
            try:
                quota.release(email.id)
            except Exception:  # the block's own error is the one worth reporting
                log.warning("an unqueued email could not be un-counted", exc_info=True)
            raise

    def build_email(
        self,
        invoice: Invoice,
        account: Account,
        to: str,
        subject: str | None,
        body: str | None,
        email_id: UUID | None = None,
    ) -> Email:
        """An email of the invoice, with the contract's default subject and body."""
        seller = account.profile.get("business_name") or account.name
        email_id = email_id or uuid4()
        return Email(
            id=email_id,
            to_email=to,
            subject=subject or f"Invoice #{invoice.number} from {seller}",
            body=body or default_body(invoice, seller),
            message_id=f"<{email_id}@{self.email_from.rpartition('@')[2] or 'localhost'}>",
        )

    def render_pdf(self, account_id: UUID, invoice_id: UUID) -> tuple[Invoice, bytes]:
        invoice = self.get_owned(Invoice, account_id, invoice_id, "Invoice")
        return invoice, self._render(invoice)

    def _render(self, invoice: Invoice) -> bytes:
        if self.document is None:
            raise RuntimeError("no invoice document renderer configured")
        account = self.get_typed(Account, invoice.account_id, "Account")
        client = self.get_typed(Client, invoice.client_id, "Client")
        return self.document.render(invoice, account, client)

    def deliver_email(self, invoice_id: UUID, email_id: UUID) -> Delivery:
        """One attempt at delivering a queued email; the outcome is recorded as an event."""
        invoice = self.get_typed(Invoice, invoice_id, "Invoice")
        email = invoice.email(email_id)
        if email.status != QUEUED:
            return Delivery("skipped")
        if self.mailer is None:
            raise RuntimeError("no mailer configured")
        try:
            self.mailer.send(
                OutgoingEmail(
                    message_id=email.message_id,
                    sender=self.email_from,
                    to=email.to_email,
                    subject=email.subject,
                    body=email.body,
                    attachment_name=f"Invoice-{invoice.number}.pdf",
                    attachment=self._render(invoice),
                )
            )
        except Exception as error:  # any failure of the mail server is retried
            return self._record_failure(invoice_id, email_id, f"{type(error).__name__}: {error}")
        self._record_delivery(invoice_id, email_id)
        return Delivery("delivered")

    @retry_on_conflict
    def _record_delivery(self, invoice_id: UUID, email_id: UUID) -> None:
        invoice = self.get_typed(Invoice, invoice_id, "Invoice")
        invoice.record_delivery(email_id, self.clock.now(), DELIVERY_ACTOR)
        self.save(invoice)

    @retry_on_conflict
    def _record_failure(self, invoice_id: UUID, email_id: UUID, error: str) -> Delivery:
        invoice = self.get_typed(Invoice, invoice_id, "Invoice")
        attempts = invoice.email(email_id).attempts + 1
        now = self.clock.now()
        final = attempts >= self.delivery_policy.max_attempts
        retry_at = None if final else now + self.delivery_policy.delay_after(attempts)
        invoice.record_attempt_failure(email_id, error[:500], retry_at, now, DELIVERY_ACTOR)
        self.save(invoice)
        return Delivery("failed") if retry_at is None else Delivery("retry", retry_at - now)


def default_body(invoice: Invoice, seller: str) -> str:
    due = invoice.totals.amount_due
    amount = f"{money.round_money(due, invoice.currency)} {invoice.currency}"
    return (
        f"Hello,\n\nPlease find attached invoice {invoice.number} from {seller}.\n"
        f"Amount due: {amount}, by {invoice.due_date.strftime('%d %B %Y')}.\n\n"
        f"Thank you,\n{seller}\n"
    )
