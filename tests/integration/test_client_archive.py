"""Archiving a client: hidden from lists unless asked, invoices keep it, templates go on."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from application.invoices import NewInvoice
from application.recurring import NewRecurring
from domain.errors import InvalidInput, NotFound
from domain.values import LineItem
from infrastructure.bootstrap import Services
from projections.audit_log import AuditFilter
from tests.support import META, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(100)),)


def names(services: Services, account_id: object, **kwargs: bool) -> list[str]:
    page = services.queries.list_clients(account_id, None, 100, None, **kwargs)  # type: ignore[arg-type]
    return [json.loads(c)["name"] for c in page.items]


def test_an_archived_client_leaves_the_list_but_keeps_its_invoices(services: Services) -> None:
    tenant = make_tenant(services)
    app = services.app
    kept = app.create_client(tenant.account_id, {"name": "Kept"}, META)
    gone = app.create_client(tenant.account_id, {"name": "Gone"}, META)
    invoice = app.create_invoice(
        tenant.account_id, NewInvoice(client_id=gone.id, line_items=LINES), META
    )
    archived = app.archive_client(tenant.account_id, gone.id, META)
    assert archived.archived_at is not None
    assert names(services, tenant.account_id) == ["Kept"]
    assert names(services, tenant.account_id, include_archived=True) == ["Gone", "Kept"]
    assert app.get_client(tenant.account_id, gone.id).archived_at == archived.archived_at
    assert app.get_invoice(tenant.account_id, invoice.id).client_id == gone.id
    with pytest.raises(InvalidInput) as refused:
        app.create_invoice(tenant.account_id, NewInvoice(client_id=gone.id, line_items=LINES), META)
    assert "clientId" in refused.value.details
    # Archiving again changes nothing and records nothing.
    version = app.get_client(tenant.account_id, gone.id).version
    app.archive_client(tenant.account_id, gone.id, META)
    assert app.get_client(tenant.account_id, gone.id).version == version
    services.projector.rebuild()
    assert names(services, tenant.account_id) == ["Kept"]
    assert kept.archived_at is None


def test_another_account_cannot_archive_a_client(services: Services) -> None:
    tenant, other = make_tenant(services), make_tenant(services, name="Other")
    client = services.app.create_client(tenant.account_id, {"name": "Mine"}, META)
    with pytest.raises(NotFound):
        services.app.archive_client(other.account_id, client.id, META)
    assert names(services, tenant.account_id) == ["Mine"]


def test_a_template_goes_on_invoicing_an_archived_client(services: Services) -> None:
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C"}, META)
    today = app.clock.now().date()
    template = app.create_recurring(
        tenant.account_id,
        NewRecurring(
            client_id=client.id,
            frequency="DAILY",
            interval=1,
            start_date=today - timedelta(days=2),
            line_items=LINES,
        ),
        META,
    )
    app.archive_client(tenant.account_id, client.id, META)
    services.recurring.run_once(today)
    generated = app.get_owned(type(template), tenant.account_id, template.id, "Template")
    assert generated.occurrences_generated == 3
    where = AuditFilter(action="client.archived")
    entries = services.queries.audit_log(tenant.account_id, where, 20, None)
    assert [e["entityId"] for e in entries.items] == [str(client.id)]
