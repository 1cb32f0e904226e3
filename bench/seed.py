"""Seeds accounts, clients, invoices and payments through the application's own saves.

Each save stores one account's counter and a batch of its invoices (with their
payments) in one transaction, as `create_invoice` and `record_payment` would one at a
time, so the events, inline rows and audit chain are exactly what the API would write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from domain.account import Account
from domain.invoice import Invoice
from domain.meta import system_meta
from domain.numbering import format_number
from domain.values import LineItem
from infrastructure.bootstrap import Services

META = system_meta("bench")
LINES = (LineItem("Consulting", Decimal(2), Decimal(450)),)


@dataclass
class Seeded:
    account_id: UUID
    client_id: UUID
    invoice_ids: list[UUID]


def seed_account(s: Services, name: str) -> Seeded:
    account = s.app.create_account(name, "b@example.com", "PRO", True, META)
    client = s.app.create_client(account.id, {"name": f"{name} client"}, META)
    return Seeded(account.id, client.id, [])


def seed_invoices(
    s: Services, seeded: Seeded, count: int, payments: int = 0, per_save: int = 200
) -> None:
    """`count` more SENT invoices, each with `payments` part-payments of 1.00."""
    app = s.app
    prefix = app.get_typed(Account, seeded.account_id, "Account").invoice_prefix
    for done in range(0, count, per_save):
        counter = app.invoice_counter(seeded.account_id)
        now = app.clock.now()
        batch = []
        for _ in range(min(per_save, count - done)):
            invoice_id = uuid4()
            invoice = Invoice(
                id=invoice_id,
                account_id=seeded.account_id,
                number=format_number(prefix, counter.take_next(invoice_id)),
                client_id=seeded.client_id,
                issue_date=now.date(),
                due_date=now.date() + timedelta(days=30),
                currency="GBP",
                tax_name=None,
                tax_rate=Decimal(0),
                line_items=LINES,
                notes=None,
                status="SENT",
                recurring_invoice_id=None,
                at=now,
                meta=META,
            )
            for _ in range(payments):
                invoice.record_payment(uuid4(), Decimal(1), now.date(), None, None, now, META)
            batch.append(invoice)
            seeded.invoice_ids.append(invoice_id)
        app.save(counter, *batch)


def add_payments(
    s: Services, seeded: Seeded, invoice_id: UUID, count: int, per_save: int = 100
) -> None:
    """`count` part-payments of 0.01 on one invoice (a long-lived aggregate)."""
    app = s.app
    for done in range(0, count, per_save):
        invoice = app.get_invoice(seeded.account_id, invoice_id)
        now = app.clock.now()
        for _ in range(min(per_save, count - done)):
            invoice.record_payment(uuid4(), Decimal("0.01"), now.date(), None, None, now, META)
        app.save(invoice)
