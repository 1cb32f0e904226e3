"""A large invoice's state is kept decoded in the process between commands, and used
only while its row stands at the kept version: another process's payment, a command
that failed, another account's id, all read exactly what the row holds."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import msgspec
import pytest

from api.documents import invoice_document
from api.services import build_services
from application.invoices import NewInvoice
from domain.errors import DomainError
from domain.invoice import Invoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.inline import InlineViews
from projections.kept_states import KeptStates
from tests.support import META, FakeClock, make_tenant, state_of

LINES = (LineItem("Work", Decimal(1), Decimal(1000)),)
# 100 payments make a state of more than 16 KB, which is kept.
MANY = 100


def long_invoice(services: Services) -> tuple[UUID, UUID]:
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    invoice = app.create_invoice(
        tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES, status="SENT"), META
    )
    now = app.clock.now()
    for _ in range(MANY):
        invoice.record_payment(uuid4(), Decimal(1), now.date(), None, None, now, META)
    app.save(invoice)
    return tenant.account_id, invoice.id


def kept(services: Services) -> KeptStates:
    assert isinstance(services.app.rows, InlineViews)
    return services.app.rows.kept


def pay(services: Services, account_id: UUID, invoice_id: UUID, amount: str) -> bytes:
    app = services.app
    invoice, _ = app.record_payment(
        account_id, invoice_id, Decimal(amount), None, "card", amount, META
    )
    return invoice_document(invoice, app.clock.now().date())


def test_a_kept_state_follows_payments_made_by_another_process(
    services: Services, settings: Settings
) -> None:
    account_id, invoice_id = long_invoice(services)
    other = build_services(settings, FakeClock())
    try:
        pay(services, account_id, invoice_id, "2")  # kept here, at the version it saved
        assert len(kept(services)) == 1
        pay(other, account_id, invoice_id, "3")  # the row moves on without this process
        document = pay(services, account_id, invoice_id, "4")
        again = pay(other, account_id, invoice_id, "5")
    finally:
        other.close()
    amounts = [p["amount"] for p in msgspec_payments(document)]
    assert amounts[MANY:] == [2, 3, 4]
    assert [p["amount"] for p in msgspec_payments(again)][MANY:] == [2, 3, 4, 5]
    assert services.app.get_invoice(account_id, invoice_id).totals.amount_paid == MANY + 14


def test_a_command_that_fails_leaves_the_kept_state_as_it_was(services: Services) -> None:
    account_id, invoice_id = long_invoice(services)
    pay(services, account_id, invoice_id, "2")
    with pytest.raises(DomainError):
        pay(services, account_id, invoice_id, "1000000")  # more than is due: refused
    document = pay(services, account_id, invoice_id, "3")
    assert [p["amount"] for p in msgspec_payments(document)][MANY:] == [2, 3]
    invoice = services.app.get_invoice(account_id, invoice_id)
    assert invoice.totals.amount_paid == MANY + 5
    assert len(invoice.payments) == MANY + 2


def test_another_accounts_id_finds_nothing_even_when_kept(services: Services) -> None:
    account_id, invoice_id = long_invoice(services)
    pay(services, account_id, invoice_id, "2")
    assert len(kept(services)) == 1
    stranger = make_tenant(services, name="Other Co")
    with pytest.raises(DomainError) as refused:
        pay(services, stranger.account_id, invoice_id, "1")
    assert "not found" in str(refused.value)
    assert services.app.get_invoice(account_id, invoice_id).totals.amount_paid == MANY + 2


def msgspec_payments(document: bytes) -> list[dict[str, object]]:
    payments: list[dict[str, object]] = msgspec.json.decode(document)["payments"]
    return payments


def test_a_save_that_stored_nothing_leaves_the_kept_state_as_it_was(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command changed its copy of the invoice, then its save failed: the next
    command starts from what the row holds, not from the changed copy."""
    account_id, invoice_id = long_invoice(services)
    pay(services, account_id, invoice_id, "2")
    recorder = services.app.recorder

    def lost(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(recorder, "insert_events", lost)
    with pytest.raises(ConnectionError):
        pay(services, account_id, invoice_id, "7")
    monkeypatch.undo()
    document = pay(services, account_id, invoice_id, "3")
    assert [p["amount"] for p in msgspec_payments(document)][MANY:] == [2, 3]
    assert services.app.get_invoice(account_id, invoice_id).totals.amount_paid == MANY + 5


def test_a_save_of_an_invoice_loaded_from_the_event_store_leaves_what_is_kept(
    services: Services,
) -> None:
    """A retry after a conflict loads from the event store, whose snapshot (taken every
    50 events) gives lists where the row gives tuples: that save is not kept, and the
    next command reads exactly what the row holds."""
    account_id, invoice_id = long_invoice(services)
    pay(services, account_id, invoice_id, "2")
    app = services.app
    from_store = app.repository.get(invoice_id)  # as a retry loads it
    now = app.clock.now()
    from_store.record_payment(uuid4(), Decimal(3), now.date(), None, None, now, META)
    app.save(from_store)
    invoice = app.get_invoice(account_id, invoice_id)
    rows = services.app.rows
    assert isinstance(rows, InlineViews)
    row = services.db.statement(
        f"SELECT version, {rows.by_class[Invoice].state_sql} FROM view_invoices WHERE id = ?",
        (str(invoice_id),),
    )
    assert row is not None and invoice.version == row[0]
    assert type(invoice.line_items) is tuple and type(invoice.emails) is tuple
    decoded = rows.by_class[Invoice].codec.load(invoice_id, row[0], row[1])
    assert state_of(invoice) == state_of(decoded)
    assert invoice.totals.amount_paid == MANY + 5


def test_what_is_kept_is_counted_at_about_the_size_of_its_whole_state(
    services: Services,
) -> None:
    """Counted exactly when loaded; after a save, whose row leaves most payments to
    blocks, as the row's bytes and the blocks' payments each at the size of the last."""
    account_id, invoice_id = long_invoice(services)
    rows = services.app.rows
    assert isinstance(rows, InlineViews)
    for n in range(3):
        app = services.app
        app.record_payment(account_id, invoice_id, Decimal(1), None, None, "x" * 100, META)
        entry = kept(services).entry(invoice_id)
        row = services.db.statement(
            f"SELECT {rows.by_class[Invoice].state_sql} FROM view_invoices WHERE id = ?",
            (str(invoice_id),),
        )
        assert entry is not None and row is not None
        # Here each new payment is 100 bytes longer than the hundred before it.
        assert len(bytes(row[0])) / 2 < entry.size < len(bytes(row[0])) * 2, n
