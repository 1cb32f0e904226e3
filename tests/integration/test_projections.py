"""Projections: consistent after every write, and rebuildable to identical contents."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from api.services import build_services
from application.invoices import NewInvoice
from application.ports import InvoiceFilter
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.support import META, FakeClock, make_tenant

LINES = (LineItem("Work", Decimal(3), Decimal("33.33")),)


def view_contents(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    contents = {}
    with services.db.transaction() as cur:
        for table in ("view_clients", "view_invoices"):
            cur.execute(f"SELECT * FROM {table} ORDER BY id")
            contents[table] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cur.fetchall()
            ]
    return contents


def populate(services: Services) -> None:
    app = services.app
    for name in ("Acme Ltd", "Other Co"):
        tenant = make_tenant(services, name=name)
        client = app.create_client(
            tenant.account_id, {"name": f"{name} client", "email": "a@b.co"}, META
        )
        app.update_client(tenant.account_id, client.id, {"city": "Leeds"}, META)
        for i in range(5):
            inv = app.create_invoice(
                tenant.account_id,
                NewInvoice(
                    client_id=client.id, line_items=LINES, status="SENT" if i % 2 else "DRAFT"
                ),
                META,
            )
            if i == 1:
                app.record_payment(tenant.account_id, inv.id, Decimal(10), None, None, None, META)
            if i == 2:
                app.void_invoice(tenant.account_id, inv.id, META)


def test_rebuilding_the_projections_gives_identical_contents(services: Services) -> None:
    populate(services)
    before = view_contents(services)
    assert len(before["view_invoices"]) == 10 and len(before["view_clients"]) == 2
    services.projector.rebuild()
    assert view_contents(services) == before


def test_the_rebuild_command_rebuilds_from_the_events(
    services: Services, settings: Settings, monkeypatch: Any
) -> None:
    from api import cli

    populate(services)
    before = view_contents(services)
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_invoices")
    monkeypatch.setenv("EXPERI_DATA_DIR", str(settings.data_dir))
    if not settings.embedded:
        monkeypatch.setenv("EXPERI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EXPERI_BCRYPT_ROUNDS", "4")
    assert cli.main(["projections", "rebuild"]) == 0
    assert view_contents(services) == before


def test_a_list_shows_a_write_made_by_another_process(settings: Settings) -> None:
    first = build_services(settings, FakeClock())
    second = build_services(settings, FakeClock())
    try:
        tenant = make_tenant(first)
        client = first.app.create_client(tenant.account_id, {"name": "Zed"}, META)
        page = second.queries.list_clients(tenant.account_id, None, 10, None)
        assert [json.loads(c)["id"] for c in page.items] == [str(client.id)]
    finally:
        first.close()
        second.close()


def test_everything_survives_a_restart(settings: Settings) -> None:
    first = build_services(settings, FakeClock())
    tenant = make_tenant(first)
    client = first.app.create_client(tenant.account_id, {"name": "Zed"}, META)
    invoice = first.app.create_invoice(
        tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES, status="SENT"), META
    )
    first.close()
    second = build_services(settings, FakeClock())
    try:
        again = second.app.get_invoice(tenant.account_id, invoice.id)
        assert again.number == "SI-001" and again.totals.total == Decimal("99.99")
        today = second.app.clock.now().date()
        listed = second.queries.list_invoices(tenant.account_id, InvoiceFilter(), 10, None, today)
        assert [json.loads(i)["id"] for i in listed.items] == [str(invoice.id)]
        principal = second.auth.authenticate(tenant.token, "127.0.0.1", time.time())
        assert principal.account_id == tenant.account_id
        nxt = second.app.create_invoice(
            tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES), META
        )
        assert nxt.number == "SI-002"
    finally:
        second.close()


def test_a_view_added_to_an_existing_store_catches_up_alone(services: Services) -> None:
    populate(services)
    before = view_contents(services)
    # As if view_clients were new: no rows and no tracking position yet.
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_clients")
        cur.execute("DELETE FROM projection_tracking WHERE name = 'ClientsView.v2'")
    services.projector.setup()
    services.projector.catch_up()
    assert view_contents(services) == before
