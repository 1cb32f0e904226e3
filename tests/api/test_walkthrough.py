"""The public docs' walk-through: client, example invoice, outstanding, paid."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.api.helpers import EXAMPLE_CLIENT, create_client, example_invoice
from tests.support import Tenant


def test_the_documented_example_end_to_end(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    created = client.post("/api/v1/clients", json=EXAMPLE_CLIENT, headers=tenant.headers)
    assert created.status_code == 201
    body = created.json()
    assert created.headers["location"] == f"/api/v1/clients/{body['id']}"
    assert body["name"] == "John Doe" and body["addressLine2"] is None and body["county"] is None

    raw = (
        '{"clientId": "CLIENT", "issueDate": "2026-02-10T00:00:00Z", "dueDate": "2026-02-24T00:00:00Z",'
        ' "currency": "GBP", "taxName": "VAT", "taxRate": 20, "lineItems": [{"description":'
        ' "Web Development", "quantity": 10, "unitPrice": 75.00}], "status": "DRAFT"}'
    ).replace("CLIENT", body["id"])
    invoice = client.post(
        "/api/v1/invoices",
        content=raw,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert invoice.status_code == 201, invoice.text
    text = invoice.text
    for fragment in (
        '"invoiceNumber":"SI-001"',
        '"subtotal":750.00',
        '"taxAmount":150.00',
        '"total":900.00',
        '"amountPaid":0.00',
        '"amountDue":900.00',
        '"unitPrice":75.00',
        '"quantity":10',
        '"taxRate":20',
        '"issueDate":"2026-02-10T00:00:00Z"',
        '"dueDate":"2026-02-24T00:00:00Z"',
        '"payments":[]',
        '"emails":[]',
        '"recurringInvoiceId":null',
    ):
        assert fragment in text
    invoice_id = invoice.json()["id"]

    # A DRAFT is not outstanding; issuing it through a payment of part makes it so.
    paid = client.post(
        f"/api/v1/invoices/{invoice_id}/paid",
        json={"amount": 100, "paymentMethod": "Bank Transfer", "reference": "TXN-1"},
        headers=tenant.headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "PARTIALLY_PAID"
    assert '"amountDue":800.00' in paid.text

    outstanding = client.get("/api/v1/invoices/outstanding", headers=tenant.headers)
    assert outstanding.status_code == 200
    listing = outstanding.json()
    assert [i["id"] for i in listing["data"]] == [invoice_id]
    assert listing["summary"]["count"] == 1
    assert '"totalDue":{"GBP":800.00}' in outstanding.text

    rest = client.post(
        f"/api/v1/invoices/{invoice_id}/paid",
        json={"paymentDate": "2026-02-20"},
        headers=tenant.headers,
    )
    assert rest.status_code == 200
    final = rest.json()
    assert final["status"] == "PAID" and final["paidAt"].startswith("2026-02-20T00:00:00")
    assert [p["amount"] for p in final["payments"]] == [100.00, 800.00]
    assert client.get("/api/v1/invoices/outstanding", headers=tenant.headers).json()["data"] == []


def test_example_invoice_helper_matches_contract(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    c = create_client(client, tenant)
    response = client.post(
        "/api/v1/invoices", json=example_invoice(c["id"]), headers=tenant.headers
    )
    assert response.json()["total"] == 900.0
