"""A command's response is the document its save wrote to the read model (not a second
rendering), with `isOverdue` as of the day of the request: byte for byte what a read
of the invoice returns right after."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from litestar.testing import TestClient

from api.documents import ApiDocuments, _Shaped
from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import META, Tenant

Api = TestClient[Any]


def test_each_invoice_command_answers_what_a_read_returns_after_it(
    client: Api, tenant: Tenant
) -> None:
    h = tenant.headers
    past = date.today() - timedelta(days=40)
    client_id = create_client(client, tenant)["id"]
    created = client.post(
        "/api/v1/invoices",
        json={
            "clientId": client_id,
            "issueDate": past.isoformat(),
            "dueDate": (past + timedelta(days=10)).isoformat(),
            "status": "DRAFT",
            "lineItems": [{"description": "Work", "quantity": 2, "unitPrice": 50}],
        },
        headers=h,
    )
    assert created.status_code == 201
    invoice_id = created.json()["id"]
    path = f"/api/v1/invoices/{invoice_id}"
    assert created.content == client.get(path, headers=h).content
    edited = client.patch(path, json={"notes": "thanks"}, headers=h)
    assert edited.json()["notes"] == "thanks"
    assert edited.content == client.get(path, headers=h).content
    paid = client.post(f"{path}/paid", json={"amount": 30}, headers=h)
    body = paid.json()
    # Issued by its first payment and long past due: overdue as of today, not as stored.
    assert body["status"] == "PARTIALLY_PAID" and body["isOverdue"] is True
    assert body["amountDue"] == 70 and len(body["payments"]) == 1
    assert paid.content == client.get(path, headers=h).content
    sent = client.post(f"{path}/send", json={}, headers=h)
    assert sent.status_code == 200 and len(sent.json()["emails"]) == 1
    assert sent.content == client.get(path, headers=h).content
    other = create_invoice(client, tenant, client_id, status="DRAFT")
    voided = client.post(f"/api/v1/invoices/{other['id']}/void", json={}, headers=h)
    assert voided.json()["status"] == "VOID" and voided.json()["isOverdue"] is False
    assert voided.content == client.get(f"/api/v1/invoices/{other['id']}", headers=h).content


def test_a_document_is_reused_only_for_the_same_object_at_the_same_version(
    services: Services, tenant: Tenant
) -> None:
    app = services.app
    customer = app.create_client(tenant.account_id, {"name": "C"}, META)
    lines = (LineItem("Work", Decimal(1), Decimal(100)),)
    invoice = app.create_invoice(tenant.account_id, NewInvoice(customer.id, lines), META)
    shaped = _Shaped()
    document = ApiDocuments().invoice(invoice)
    shaped.put(invoice, document)
    # The same invoice loaded again is another object: it is shaped afresh.
    assert shaped.take(app.get_invoice(tenant.account_id, invoice.id)) is None
    assert shaped.take(invoice) == document
    assert shaped.take(invoice) is None  # taken by its response
    shaped.put(invoice, document)
    invoice.record_payment(uuid4(), Decimal(10), date.today(), None, None, app.clock.now(), META)
    assert shaped.take(invoice) is None  # changed since: its version moved on


def test_a_payment_shapes_its_invoice_once(client: Api, tenant: Tenant, monkeypatch: Any) -> None:
    from api import render

    invoice = create_invoice(client, tenant, status="SENT")
    calls: list[str] = []
    shape = render.invoice
    monkeypatch.setattr(
        render, "invoice", lambda inv, day, **kw: calls.append("x") or shape(inv, day, **kw)
    )
    paid = client.post(f"/api/v1/invoices/{invoice['id']}/paid", json={}, headers=tenant.headers)
    assert paid.status_code == 200 and paid.json()["status"] == "PAID"
    assert len(calls) == 1  # for the row; the response is that same document
    calls.clear()
    draft = create_invoice(client, tenant, status="DRAFT")
    calls.clear()
    paid = client.post(f"/api/v1/invoices/{draft['id']}/paid", json={}, headers=tenant.headers)
    assert paid.json()["status"] == "PAID"
    assert len(calls) == 2  # issued, then paid: the feed has the invoice after each event
