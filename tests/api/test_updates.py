"""Partial updates of clients and DRAFT invoices, payments and voiding over HTTP."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_client_update_changes_only_the_fields_sent(
    client: TestClient,
    tenant: Tenant,
    method: str,  # type: ignore[type-arg]
) -> None:
    c = create_client(client, tenant)
    r = client.request(
        method,
        f"/api/v1/clients/{c['id']}",
        json={"city": "Leeds", "phone": None},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["city"] == "Leeds" and body["phone"] is None
    assert body["name"] == "John Doe" and body["company"] == "Acme Corp"
    assert body["updatedAt"] >= c["updatedAt"] and body["createdAt"] == c["createdAt"]
    again = client.get(f"/api/v1/clients/{c['id']}", headers=tenant.headers).json()
    assert again == body


def test_a_client_name_cannot_be_cleared(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    c = create_client(client, tenant)
    for value in (None, "", "   "):
        r = client.patch(f"/api/v1/clients/{c['id']}", json={"name": value}, headers=tenant.headers)
        assert r.status_code == 400
        assert list(r.json()["error"]["details"]) == ["name"]
    assert (
        client.get(f"/api/v1/clients/{c['id']}", headers=tenant.headers).json()["name"]
        == "John Doe"
    )


def test_editing_a_draft_recomputes_its_totals(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant)
    r = client.patch(
        f"/api/v1/invoices/{inv['id']}",
        json={
            "lineItems": [{"description": "A", "quantity": 1.5, "unitPrice": 10.005}],
            "taxRate": 17.5,
        },
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    # 1.5 x 10.005 = 15.0075 -> 15.01; tax 17.5% of 15.01 = 2.62675 -> 2.63
    assert '"amount":15.01' in r.text and '"subtotal":15.01' in r.text
    assert '"taxAmount":2.63' in r.text and '"total":17.64' in r.text
    assert r.json()["invoiceNumber"] == inv["invoiceNumber"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_only_a_draft_invoice_can_be_edited(
    client: TestClient, tenant: Tenant, method: str
) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant, status="SENT")
    r = client.request(
        method, f"/api/v1/invoices/{inv['id']}", json={"notes": "late"}, headers=tenant.headers
    )
    assert r.status_code == 409
    assert r.json()["error"]["statusCode"] == 409
    assert (
        client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()["notes"] is None
    )


def test_paying_a_draft_issues_it(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant)
    r = client.post(
        f"/api/v1/invoices/{inv['id']}/paid",
        json={"amount": 900, "paymentDate": "2026-02-12", "reference": "TXN-1"},
        headers=tenant.headers,
    )
    body = r.json()
    assert body["status"] == "PAID" and body["sentAt"] is not None
    assert body["payments"][0]["paymentDate"] == "2026-02-12T00:00:00Z"
    assert body["payments"][0]["reference"] == "TXN-1"
    assert body["payments"][0]["paymentMethod"] is None


def test_a_paid_or_void_invoice_refuses_payments(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    paid = create_invoice(client, tenant, status="SENT")
    assert (
        client.post(f"/api/v1/invoices/{paid['id']}/paid", headers=tenant.headers).status_code
        == 200
    )
    assert (
        client.post(f"/api/v1/invoices/{paid['id']}/paid", headers=tenant.headers).status_code
        == 409
    )
    void = create_invoice(client, tenant, status="SENT")
    assert (
        client.post(f"/api/v1/invoices/{void['id']}/void", headers=tenant.headers).status_code
        == 200
    )
    r = client.post(
        f"/api/v1/invoices/{void['id']}/paid", json={"amount": 1}, headers=tenant.headers
    )
    assert r.status_code == 409


def test_voiding_keeps_the_number_used(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    first = create_invoice(client, tenant)
    voided = client.post(f"/api/v1/invoices/{first['id']}/void", headers=tenant.headers).json()
    assert voided["status"] == "VOID" and voided["voidedAt"] is not None
    assert create_invoice(client, tenant)["invoiceNumber"] == "SI-002"
    assert (
        client.post(f"/api/v1/invoices/{first['id']}/void", headers=tenant.headers).status_code
        == 409
    )


def test_an_invoice_with_payments_cannot_be_voided(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant, status="SENT")
    client.post(f"/api/v1/invoices/{inv['id']}/paid", json={"amount": 1}, headers=tenant.headers)
    r = client.post(f"/api/v1/invoices/{inv['id']}/void", headers=tenant.headers)
    assert r.status_code == 409
    assert (
        client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()["status"]
        == "PARTIALLY_PAID"
    )


def test_defaults_issue_today_due_in_14_days_in_gbp(
    client: TestClient, tenant: Tenant, clock
) -> None:  # type: ignore[no-untyped-def,type-arg]
    c = create_client(client, tenant)
    r = client.post(
        "/api/v1/invoices",
        json={
            "clientId": c["id"],
            "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1}],
        },
        headers=tenant.headers,
    )
    body = r.json()
    from datetime import timedelta

    today = clock.now().date()
    assert body["issueDate"] == f"{today}T00:00:00Z"
    assert body["dueDate"] == f"{today + timedelta(days=14)}T00:00:00Z"
    assert body["currency"] == "GBP" and body["status"] == "DRAFT"
    assert body["taxRate"] == 0 and body["taxName"] is None
