"""Commands load aggregates from their inline rows, and fall back to the event store
when a row is missing or lags it (a retry after a conflict always reads the store)."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import psycopg
import pytest

from api.services import build_services
from application.invoices import NewInvoice
from domain.numbering import InvoiceCounter, counter_id
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.support import META, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(100)),)


def counter_row(services: Services, account_id: object) -> tuple[int, bytes]:
    row = services.db.statement(
        "SELECT version, state FROM view_counters WHERE id = ?",
        (str(counter_id(account_id)),),  # type: ignore[arg-type]
    )
    assert row is not None
    return int(row[0]), bytes(row[1])


def test_numbering_reads_the_counter_row_written_with_each_invoice(services: Services) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    for n in range(1, 4):
        services.app.create_invoice(
            tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES), META
        )
        version, _ = counter_row(services, tenant.account_id)
        assert version == n + 1  # created, then one number taken per invoice


def test_a_row_that_lags_the_events_costs_a_retry_never_a_wrong_number(
    services: Services,
) -> None:
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES)
    first = app.create_invoice(tenant.account_id, new, META)
    stale = counter_row(services, tenant.account_id)
    second = app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    # As if a process of an older release had taken a number without writing the row.
    with services.db.transaction() as cur:
        cur.execute(
            "UPDATE view_counters SET version = ?, state = ? WHERE id = ?",
            (*stale, str(counter_id(tenant.account_id))),
        )
    third = app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    numbers = [i.number.rsplit("-", 1)[1] for i in (first, second, third)]
    assert [int(n) for n in numbers] == [1, 2, 3]
    assert counter_row(services, tenant.account_id)[0] == 4  # the row caught up


def test_without_a_counter_row_numbering_reads_the_event_store(services: Services) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    services.app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    ident = counter_id(tenant.account_id)
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_counters WHERE id = ?", (str(ident),))
    assert services.app.from_row(InvoiceCounter, ident) is None
    again = services.app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    assert again.number.endswith("2")


def test_a_snapshot_taken_after_a_save_holds_what_a_replay_gives(services: Services) -> None:
    """Snapshots are taken from the aggregate just saved, not read back and replayed:
    loading from one (as a retry does) gives the aggregate the events give."""
    from eventsourcing.application import project_aggregate

    from application.app import SNAPSHOT_EVERY

    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    every = SNAPSHOT_EVERY[InvoiceCounter]
    for _ in range(every - 1):  # the counter's creation is its first event
        app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    snapshots = list(app.snapshots.get(counter_id(tenant.account_id)))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [every]
    from_snapshot = app.repository.get(counter_id(tenant.account_id))
    replayed = project_aggregate(None, app.events.get(counter_id(tenant.account_id)))
    assert replayed is not None and from_snapshot.version == replayed.version == every
    assert vars(from_snapshot) == vars(replayed)


def test_snapshots_of_large_invoices_saved_together_load_as_replayed(
    services: Services,
) -> None:
    """Two invoices reaching their snapshot interval in one save (each with 49 payments,
    some texts not ASCII): both snapshots are stored, and each loads as a replay."""
    from uuid import uuid4

    from eventsourcing.application import project_aggregate

    from application.app import SNAPSHOT_EVERY
    from domain.invoice import Invoice

    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    counter = app.invoice_counter(tenant.account_id)
    now = app.clock.now()
    invoices = []
    for n in range(2):
        invoice_id = uuid4()
        invoice = Invoice(
            id=invoice_id, account_id=tenant.account_id, number=f"SI-{n}",
            client_id=client.id, issue_date=now.date(), due_date=now.date(),
            currency="GBP", tax_name=None, tax_rate=Decimal(0), line_items=LINES,
            notes="Über €", status="SENT", recurring_invoice_id=None, at=now, meta=META,
        )  # fmt: skip
        counter.take_next(invoice_id)
        for k in range(SNAPSHOT_EVERY[Invoice] - 1):
            invoice.record_payment(uuid4(), Decimal("0.01"), now.date(), "Wire", f"ref ✓ {k}", now, META)  # fmt: skip
        invoices.append(invoice)
    app.save(counter, *invoices)
    for invoice in invoices:
        snapshots = list(app.snapshots.get(invoice.id))  # type: ignore[union-attr]
        assert [s.originator_version for s in snapshots] == [SNAPSHOT_EVERY[Invoice]]
        from_snapshot = app.repository.get(invoice.id)
        replayed = project_aggregate(None, app.events.get(invoice.id))
        assert vars(from_snapshot) == vars(replayed)
        assert len(from_snapshot.payments) == SNAPSHOT_EVERY[Invoice] - 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_large_states_documents_and_snapshots_compress_with_lz4_where_the_server_has_it(
    postgres: Services,
) -> None:
    """Compressing a long-lived invoice's row with pglz was most of a payment's cost on
    it, and most of its snapshot's insert (6.1 ms against 2.6 for 299 KB)."""
    snapshots = postgres.app.snapshots
    assert snapshots is not None
    table = snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    rows = postgres.db.rows(
        "SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND a.attname IN ('state', 'document', 'body') "
        "AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
    )
    compression = {
        (str(t), str(c)): str(m)
        for t, c, m in rows
        if str(t).startswith("view_") or t == table  # not the events' own small states
    }
    assert (table, "state") in compression
    assert ("view_invoices", "document") in compression
    has_lz4 = postgres.db.rows(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    assert set(compression.values()) == ({"l"} if has_lz4 else {""})


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_busy_snapshots_table_is_switched_at_a_later_start_not_waited_for(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The switch waits at most 2 s for the table; the start goes on without it."""
    build_services(settings).close()
    conninfo = settings.postgres.conninfo()
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("ALTER TABLE experi_snapshots ALTER COLUMN state SET COMPRESSION pglz")
    with psycopg.connect(conninfo) as holder:
        holder.execute("LOCK TABLE experi_snapshots IN ACCESS SHARE MODE")  # a dump would
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="experi.store"):
            build_services(settings).close()
        assert time.monotonic() - started < 30
        assert "the snapshots table was busy" in caplog.text
        assert snapshot_compression(conninfo) == "p"
        holder.rollback()
    build_services(settings).close()
    assert snapshot_compression(conninfo) == "l"


def snapshot_compression(conninfo: str) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'experi_snapshots'::regclass AND attname = 'state'"
        ).fetchone()
    return str(row[0]) if row else ""
