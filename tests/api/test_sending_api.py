"""Send, PDF and account profile over HTTP."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant


def test_sending_a_draft_makes_it_sent_and_resending_adds_a_delivery(
    client: TestClient,
    tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    inv = create_invoice(client, tenant)
    first = client.post(f"/api/v1/invoices/{inv['id']}/send", headers=tenant.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "SENT" and body["sentAt"] is not None
    [email] = body["emails"]
    assert email == {
        "id": email["id"],
        "toEmail": "john@acme.com",
        "subject": "Invoice #SI-001 from Acme Ltd",
        "status": "QUEUED",
        "attempts": 0,
        "sentAt": None,
    }
    services.outbox.run_once()
    again = client.post(
        f"/api/v1/invoices/{inv['id']}/send",
        json={"toEmail": "ap@acme.com"},
        headers=tenant.headers,
    ).json()
    assert [e["status"] for e in again["emails"]] == ["SENT", "QUEUED"]
    assert again["emails"][1]["toEmail"] == "ap@acme.com"
    assert again["sentAt"] == body["sentAt"]
    eml = sorted((services.settings.data_dir / "outbox").glob("*.eml"))
    assert len(eml) == 1 and b"application/pdf" in eml[0].read_bytes()


def test_a_void_invoice_cannot_be_sent(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant)
    client.post(f"/api/v1/invoices/{inv['id']}/void", headers=tenant.headers)
    r = client.post(f"/api/v1/invoices/{inv['id']}/send", headers=tenant.headers)
    assert r.status_code == 409


def test_no_address_anywhere_is_a_400(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    c = create_client(client, tenant, email=None)
    inv = create_invoice(client, tenant, c["id"])
    r = client.post(f"/api/v1/invoices/{inv['id']}/send", headers=tenant.headers)
    assert r.status_code == 400 and "toEmail" in r.json()["error"]["details"]
    got = client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()
    assert got["status"] == "DRAFT" and got["emails"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Invoice\r\nBcc: victim@example.com"),
        ("subject", "Invoice\nX-Injected: 1"),
        ("toEmail", "john@acme.com\r\nBcc: victim@example.com"),
        ("toEmail", "john@acme.com, victim@example.com"),
        ("toEmail", "not an address"),
        ("subject", 42),
    ],
)
def test_header_injection_and_bad_addresses_are_refused(
    client: TestClient,
    tenant: Tenant,
    field: str,
    value: object,  # type: ignore[type-arg]
) -> None:
    inv = create_invoice(client, tenant)
    r = client.post(
        f"/api/v1/invoices/{inv['id']}/send", json={field: value}, headers=tenant.headers
    )
    assert r.status_code == 400 and field in r.json()["error"]["details"]
    assert (
        client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()["emails"] == []
    )


def test_send_needs_its_scope_and_hides_other_accounts(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    from tests.support import META

    inv = create_invoice(client, tenant)
    assert (
        client.post(f"/api/v1/invoices/{inv['id']}/send", headers=other_tenant.headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/invoices/{inv['id']}/pdf", headers=other_tenant.headers).status_code
        == 404
    )
    key = services.app.create_key(
        tenant.account_id, "reader", ["invoices:read", "invoices:write"], META
    )
    r = client.post(
        f"/api/v1/invoices/{inv['id']}/send", headers={"Authorization": f"Bearer {key.token}"}
    )
    assert r.status_code == 403 and "invoices:send" in r.json()["error"]["message"]


def test_the_pdf_is_served_as_a_pdf(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    import io

    from pypdf import PdfReader

    inv = create_invoice(client, tenant)
    r = client.get(f"/api/v1/invoices/{inv['id']}/pdf", headers=tenant.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "SI-001" in text and "900.00 GBP" in text and "John Doe" in text


def test_the_account_profile_reads_and_updates(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    got = client.get("/api/v1/account", headers=tenant.headers).json()
    assert got["plan"] == "PRO" and got["apiAccess"] == "APPROVED" and got["invoicePrefix"] == "SI"
    assert got["id"] == str(tenant.account_id)
    r = client.patch(
        "/api/v1/account",
        json={"businessName": "Acme Web", "taxNumber": "GB1", "invoicePrefix": "AW", "city": None},
        headers=tenant.headers,
    )
    assert r.status_code == 200 and r.json()["businessName"] == "Acme Web"
    assert create_invoice(client, tenant)["invoiceNumber"] == "AW-001"
    for field, value in (
        ("plan", "FREE"),
        ("apiAccess", "NONE"),
        ("id", "x"),
        ("invoicePrefix", "S I"),
        ("email", "nope"),
    ):
        r = client.patch("/api/v1/account", json={field: value}, headers=tenant.headers)
        assert r.status_code == 400 and field in r.json()["error"]["details"], field
    assert client.get("/api/v1/account", headers=tenant.headers).json()["plan"] == "PRO"
