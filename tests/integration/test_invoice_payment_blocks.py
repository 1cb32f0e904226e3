"""An invoice's payments past its first full block are kept in blocks beside its row:
every read still returns every payment, in order, exactly as the event store's replay
renders them; a payment writes a row of fewer than BLOCK payments; another process, a
rebuild and concurrent payments all agree."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.documents import ApiDocuments
from api.services import build_services
from application.invoices import NewInvoice
from application.ports import InvoiceFilter
from domain.errors import NotFound
from domain.invoice import Invoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.aggregate_view import name_of
from projections.batch_reader import BatchReader
from projections.inline import InlineViews
from projections.invoice_payments import BLOCK, TABLE
from projections.rebuild_batch import fold_batch
from tests.support import META, FakeClock, Tenant, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(100_000)),)
TODAY = date(2026, 3, 1)


def open_invoice(services: Services, tenant: Tenant) -> UUID:
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    return app.create_invoice(tenant.account_id, new, META).id


def pay(services: Services, tenant: Tenant, invoice_id: UUID, n: int) -> None:
    # References of different lengths: each payment's text differs from the others'.
    services.app.record_payment(
        tenant.account_id, invoice_id, Decimal("1.25"), None, "card", "R" * (n % 7) + str(n), META
    )


def pay_at_once(services: Services, tenant: Tenant, invoice_id: UUID, count: int) -> None:
    """`count` payments saved together (one save, many events)."""
    app = services.app
    invoice = app.get_invoice(tenant.account_id, invoice_id)
    now = app.clock.now()
    for n in range(count):
        invoice.record_payment(uuid4(), Decimal(2), now.date(), None, f"bulk {n}", now, META)
    app.save(invoice)


def replayed(services: Services, invoice_id: UUID) -> dict[str, Any]:
    """The invoice's document shaped from the event store's replay of it."""
    invoice = services.app.repository.get(invoice_id)
    return dict(json.loads(ApiDocuments().past_invoice(invoice)))


def read(services: Services, tenant: Tenant, invoice_id: UUID) -> dict[str, Any]:
    found = services.queries.invoice(tenant.account_id, invoice_id, date.min)
    return dict(json.loads(found))


def row_payments(services: Services, invoice_id: UUID) -> tuple[int, int]:
    """(payments the row's own document lists, payments it says its blocks hold)."""
    row = services.db.statement(
        "SELECT document, payments_out FROM view_invoices WHERE id = ?", (str(invoice_id),)
    )
    assert row is not None
    return len(json.loads(bytes(row[0]))["payments"]), int(row[1])


def whole_state(services: Services, invoice_id: UUID) -> bytes:
    rows = services.app.rows
    assert isinstance(rows, InlineViews)
    sql = rows.by_class[Invoice].state_sql
    row = services.db.statement(f"SELECT {sql} FROM view_invoices WHERE id = ?", (str(invoice_id),))
    assert row is not None
    return bytes(row[0])


def test_every_read_lists_every_payment_as_the_replay_renders_it(
    services: Services, tenant: Tenant
) -> None:
    invoice_id = open_invoice(services, tenant)
    seen = []
    for n in range(2 * BLOCK + 3):
        pay(services, tenant, invoice_id, n)
        if n + 1 in (BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 3):
            expected = replayed(services, invoice_id)
            assert read(services, tenant, invoice_id) == expected
            assert len(expected["payments"]) == n + 1
            seen.append(row_payments(services, invoice_id))
    # The row keeps only the payments after its last full block.
    assert seen == [(BLOCK - 1, 0), (0, BLOCK), (1, BLOCK), (0, 2 * BLOCK), (3, 2 * BLOCK)]
    expected = replayed(services, invoice_id)
    assert [p["reference"] for p in expected["payments"]][:3] == ["0", "R1", "RR2"]
    listed = services.queries.list_invoices(tenant.account_id, InvoiceFilter(), 20, None, TODAY)
    assert [json.loads(d) for d in listed.items] == [expected]
    page, count, totals = services.queries.list_outstanding(tenant.account_id, 20, None, TODAY)
    assert [json.loads(d) for d in page.items] == [expected] and count == 1
    assert totals == {"GBP": Decimal(100_000) - Decimal("1.25") * (2 * BLOCK + 3)}


def test_a_save_of_many_payments_fills_every_block_it_completes(
    services: Services, tenant: Tenant
) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, BLOCK - 2)
    pay_at_once(services, tenant, invoice_id, 3 * BLOCK + 5)  # completes four blocks
    pay(services, tenant, invoice_id, 1)
    assert row_payments(services, invoice_id) == (4, 4 * BLOCK)
    assert read(services, tenant, invoice_id) == replayed(services, invoice_id)
    invoice = services.app.get_invoice(tenant.account_id, invoice_id)
    assert len(invoice.payments) == 4 * BLOCK + 4
    assert invoice.totals.amount_paid == Decimal(2) * (4 * BLOCK + 3) + Decimal("1.25")


def test_another_process_loads_the_whole_state_and_pays_on(
    services: Services, tenant: Tenant, settings: Settings
) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, 2 * BLOCK + 1)
    other = build_services(settings, FakeClock())
    try:
        # Nothing of this invoice is kept in the other process: it loads the row.
        invoice = other.app.get_invoice(tenant.account_id, invoice_id)
        assert invoice == services.app.repository.get(invoice_id)
        for n in range(BLOCK):
            pay(other, tenant, invoice_id, n)
        pay(services, tenant, invoice_id, 99)  # and this one no longer holds the latest
    finally:
        other.close()
    assert read(services, tenant, invoice_id) == replayed(services, invoice_id)
    assert row_payments(services, invoice_id) == (2, 3 * BLOCK)
    assert len(services.app.get_invoice(tenant.account_id, invoice_id).payments) == 3 * BLOCK + 2


def test_a_rebuild_writes_the_same_rows_and_blocks(services: Services, tenant: Tenant) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, BLOCK + 4)
    for n in range(BLOCK):
        pay(services, tenant, invoice_id, n)
    before = stored(services)
    state = whole_state(services, invoice_id)
    services.projector.rebuild()
    assert stored(services) == before
    assert whole_state(services, invoice_id) == state
    assert read(services, tenant, invoice_id) == replayed(services, invoice_id)


def stored(services: Services) -> list[tuple[Any, ...]]:
    with services.db.transaction() as cur:
        cur.execute(
            "SELECT id, version, state, document, payments_out FROM view_invoices ORDER BY id"
        )
        rows = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()
        ]
        cur.execute(f"SELECT * FROM {TABLE} ORDER BY invoice_id, first_payment")
        return rows + [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()
        ]


def test_concurrent_payments_across_a_block_boundary_are_each_kept_once(
    services: Services, tenant: Tenant
) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, BLOCK - 3)
    errors: list[BaseException] = []

    def payer(k: int) -> None:
        try:
            for n in range(4):
                pay(services, tenant, invoice_id, 10 * k + n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=payer, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    document = read(services, tenant, invoice_id)
    assert document == replayed(services, invoice_id)
    references = [p["reference"] for p in document["payments"]][BLOCK - 3 :]
    assert sorted(references) == sorted(
        "R" * (n % 7) + str(n)
        for k in range(3)
        for n in (10 * k, 10 * k + 1, 10 * k + 2, 10 * k + 3)
    )
    assert row_payments(services, invoice_id) == (BLOCK - 3 + 12 - BLOCK, BLOCK)


def test_another_accounts_invoice_is_not_read(services: Services, tenant: Tenant) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, BLOCK + 1)
    other = make_tenant(services, name="Other Ltd")
    with pytest.raises(NotFound):
        services.queries.invoice(other.account_id, invoice_id, TODAY)
    listed = services.queries.list_invoices(other.account_id, InvoiceFilter(), 20, None, TODAY)
    assert listed.items == []


def drop_block(services: Services, invoice_id: UUID, first: int) -> None:
    """As a save racing a rebuild can leave a row: one of its blocks gone."""
    with services.db.transaction() as cur:
        cur.execute(
            f"DELETE FROM {TABLE} WHERE invoice_id = ? AND first_payment = ?",
            (str(invoice_id), first),
        )


def blocks(services: Services, invoice_id: UUID) -> tuple[int, int]:
    """(blocks stored, blocks the row says it has)."""
    stored_ = services.db.statement(
        f"SELECT count(*) FROM {TABLE} WHERE invoice_id = ?", (str(invoice_id),)
    )
    out = row_payments(services, invoice_id)[1]
    assert stored_ is not None
    return int(stored_[0]), out // BLOCK


def test_a_row_missing_a_block_reads_from_the_event_store_and_its_next_save_mends_it(
    services: Services, tenant: Tenant, settings: Settings
) -> None:
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, 3 * BLOCK + 5)
    pay(services, tenant, invoice_id, 1)  # its state (over 16 KB) is now kept here
    drop_block(services, invoice_id, BLOCK)
    assert blocks(services, invoice_id) == (2, 3)
    expected = replayed(services, invoice_id)
    assert read(services, tenant, invoice_id) == expected
    listed = services.queries.list_invoices(tenant.account_id, InvoiceFilter(), 20, None, TODAY)
    assert [json.loads(d) for d in listed.items] == [expected]
    page, _, _ = services.queries.list_outstanding(tenant.account_id, 20, None, TODAY)
    assert [json.loads(d) for d in page.items] == [expected]
    # The kept state's save writes every block, as does another process's (which
    # loads the invoice from the event store), and a retry's.
    pay(services, tenant, invoice_id, 2)
    assert blocks(services, invoice_id) == (3, 3)
    drop_block(services, invoice_id, 0)
    other = build_services(settings, FakeClock())
    try:
        pay(other, tenant, invoice_id, 3)
    finally:
        other.close()
    assert blocks(services, invoice_id) == (3, 3)
    drop_block(services, invoice_id, 2 * BLOCK)
    app = services.app
    from_store = app.repository.get(invoice_id)  # as a retry after a conflict loads it
    now = app.clock.now()
    from_store.record_payment(uuid4(), Decimal(1), now.date(), None, "retry", now, META)
    app.save(from_store)
    assert blocks(services, invoice_id) == (3, 3)
    assert read(services, tenant, invoice_id) == replayed(services, invoice_id)
    invoice = app.get_invoice(tenant.account_id, invoice_id)
    assert len(invoice.payments) == 3 * BLOCK + 9
    assert invoice.totals.amount_paid == Decimal(2) * (3 * BLOCK + 5) + Decimal("3.75") + 1


def test_a_read_on_the_event_loop_replays_a_row_missing_a_block_in_a_worker_thread(
    services: Services, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server reads on its event loop: a replay from the event store (rare: a row
    missing a block) runs in a worker thread, so other requests go on meanwhile."""
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, BLOCK + 2)
    drop_block(services, invoice_id, 0)
    view = services.queries.invoices
    replays: list[int] = []
    original = view.stored
    assert original is not None

    def stored(ident: UUID) -> Any:
        replays.append(threading.get_ident())
        return original(ident)

    monkeypatch.setattr(view, "stored", stored)

    async def on_the_loop() -> tuple[int, bytes, list[bytes]]:
        await services.db.open_reads()
        try:
            queries = services.queries
            one = await queries.invoice.read(tenant.account_id, invoice_id, date.min)
            listed = await queries.list_invoices.read(
                tenant.account_id, InvoiceFilter(), 20, None, date.min
            )
            return threading.get_ident(), one, listed.items
        finally:
            await services.db.close_reads()

    loop_thread, one, listed = asyncio.run(on_the_loop())
    expected = replayed(services, invoice_id)
    assert json.loads(one) == expected
    assert [json.loads(d) for d in listed] == [expected]
    assert len(replays) == 2 and loop_thread not in replays


def row_behind_and_missing_a_block(
    services: Services, tenant: Tenant, payments: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[UUID, Any]:
    """An invoice paid `payments` times whose row lost its first block, then paid once
    more without its row being written; and the invoices view."""
    invoice_id = open_invoice(services, tenant)
    pay_at_once(services, tenant, invoice_id, payments)
    drop_block(services, invoice_id, 0)
    rows = services.app.rows
    assert isinstance(rows, InlineViews)
    view = rows.by_class[Invoice]
    with monkeypatch.context() as patched:
        patched.setattr(view, "upsert", lambda *_: None)
        patched.setattr(view, "write_parts", lambda *_: None)
        pay(services, tenant, invoice_id, 7)
    return invoice_id, view


def test_a_rebuild_meeting_a_row_missing_a_block_takes_it_from_the_event_store(
    services: Services, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fold that refills the rows finds a row behind its events with a block gone:
    it loads that invoice from the event store and writes every block with the row."""
    invoice_id, view = row_behind_and_missing_a_block(services, tenant, 2 * BLOCK + 1, monkeypatch)
    last = services.app.recorder.max_notification_id() or 0
    events = BatchReader(services.app, 10, ahead=False).read(last - 1, last)
    assert [e.originator_id for _, e in events] == [invoice_id]
    with services.db.transaction() as cur:
        fold_batch(
            cur,
            [view],
            {name_of(view): last - 1},
            events,
            {},
            services.db.dialect,
            lambda ident, version: services.app.repository.get(ident, version=version),
        )
    assert blocks(services, invoice_id) == (2, 2)
    assert row_payments(services, invoice_id) == (2, 2 * BLOCK)
    assert read(services, tenant, invoice_id) == replayed(services, invoice_id)


def test_an_event_applied_alone_to_a_row_missing_a_block_is_refused_and_writes_nothing(
    services: Services, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event applied alone (after its batch failed) to a row that cannot give its
    state whole is refused (set aside; a rebuild refills the row), rather than applied
    to a state short of the block's payments."""
    invoice_id, view = row_behind_and_missing_a_block(services, tenant, BLOCK + 1, monkeypatch)
    last = services.app.recorder.max_notification_id() or 0
    [(notification, event)] = BatchReader(services.app, 10, ahead=False).read(last - 1, last)

    def row() -> tuple[Any, ...] | None:
        return services.db.statement(
            "SELECT version, state, document FROM view_invoices WHERE id = ?", (str(invoice_id),)
        )

    row_before = row()
    refused = pytest.raises(RuntimeError, match="cannot give its state whole")
    with refused, services.db.transaction() as cur:
        view.apply(cur, event, notification)
    assert row() == row_before
    assert blocks(services, invoice_id) == (0, 1)
