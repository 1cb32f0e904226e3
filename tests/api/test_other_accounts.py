"""Another account's objects: 404 on every endpoint, exactly as for an id that never
existed, absent from every list, refused as references, and left unchanged."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant

NEVER = str(uuid.uuid4())


def calls(client_id: str, invoice_id: str) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("GET", f"/api/v1/clients/{client_id}", None),
        ("PUT", f"/api/v1/clients/{client_id}", {"city": "Leeds"}),
        ("PATCH", f"/api/v1/clients/{client_id}", {"city": "Leeds"}),
        ("GET", f"/api/v1/invoices/{invoice_id}", None),
        ("PUT", f"/api/v1/invoices/{invoice_id}", {"notes": "mine now"}),
        ("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "mine now"}),
        ("POST", f"/api/v1/invoices/{invoice_id}/paid", {"amount": 1}),
        ("POST", f"/api/v1/invoices/{invoice_id}/void", None),
        ("POST", f"/api/v1/invoices/{invoice_id}/send", None),
        ("GET", f"/api/v1/invoices/{invoice_id}/pdf", None),
        ("GET", f"/api/v1/invoices/{invoice_id}/history", None),
    ]


def test_every_endpoint_answers_404_like_for_an_unknown_id(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    theirs_client = create_client(client, other_tenant)
    theirs_invoice = create_invoice(client, other_tenant, theirs_client["id"])
    for (method, path, body), (_, unknown_path, _) in zip(
        calls(theirs_client["id"], theirs_invoice["id"]), calls(NEVER, NEVER), strict=True
    ):
        mine = client.request(method, path, json=body, headers=tenant.headers)
        unknown = client.request(method, unknown_path, json=body, headers=tenant.headers)
        assert mine.status_code == unknown.status_code == 404, (method, path, mine.text)
        assert mine.json() == unknown.json()
    # Nothing of theirs changed.
    after = client.get(
        f"/api/v1/invoices/{theirs_invoice['id']}", headers=other_tenant.headers
    ).json()
    assert (
        after
        == client.get(
            f"/api/v1/invoices/{theirs_invoice['id']}", headers=other_tenant.headers
        ).json()
    )
    assert after["status"] == "DRAFT" and after["notes"] is None and after["payments"] == []
    assert after["emails"] == []
    got = client.get(f"/api/v1/clients/{theirs_client['id']}", headers=other_tenant.headers).json()
    assert got["city"] == "London"


@pytest.mark.parametrize("path", ["/api/v1/clients/not-a-uuid", "/api/v1/invoices/123/paid"])
def test_a_malformed_id_is_a_404(client: TestClient, tenant: Tenant, path: str) -> None:  # type: ignore[type-arg]
    method = "POST" if path.endswith("/paid") else "GET"
    assert client.request(method, path, headers=tenant.headers).status_code == 404


def test_an_id_of_another_kind_is_a_404(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    invoice = create_invoice(client, tenant)
    assert client.get(f"/api/v1/clients/{invoice['id']}", headers=tenant.headers).status_code == 404
    assert (
        client.get(f"/api/v1/invoices/{invoice['clientId']}", headers=tenant.headers).status_code
        == 404
    )


def test_lists_never_show_another_accounts_objects(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    theirs = create_client(client, other_tenant, name="Secret Client", email="secret@x.example")
    create_invoice(client, other_tenant, theirs["id"], status="SENT")
    mine = create_invoice(client, tenant)
    h = tenant.headers
    assert client.get("/api/v1/clients", headers=h).json()["data"][0]["id"] == mine["clientId"]
    assert (
        client.get("/api/v1/clients", params={"search": "secret"}, headers=h).json()["data"] == []
    )
    assert [i["id"] for i in client.get("/api/v1/invoices", headers=h).json()["data"]] == [
        mine["id"]
    ]
    assert (
        client.get("/api/v1/invoices", params={"clientId": theirs["id"]}, headers=h).json()["data"]
        == []
    )
    outstanding = client.get("/api/v1/invoices/outstanding", headers=h).json()
    assert outstanding["data"] == [] and outstanding["summary"] == {"count": 0, "totalDue": {}}
    log = client.get("/api/v1/audit-log", params={"entityId": theirs["id"]}, headers=h).json()
    assert log["data"] == []


def test_another_accounts_client_cannot_be_referenced(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    theirs = create_client(client, other_tenant)
    r = client.post(
        "/api/v1/invoices",
        json={
            "clientId": theirs["id"],
            "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1}],
        },
        headers=tenant.headers,
    )
    assert r.status_code == 400 and list(r.json()["error"]["details"]) == ["clientId"]
    draft = create_invoice(client, tenant)
    r = client.patch(
        f"/api/v1/invoices/{draft['id']}", json={"clientId": theirs["id"]}, headers=tenant.headers
    )
    assert r.status_code == 400 and "clientId" in r.json()["error"]["details"]
    assert (
        client.get(f"/api/v1/invoices/{draft['id']}", headers=tenant.headers).json()["clientId"]
        == draft["clientId"]
    )
    assert create_invoice(client, tenant)["invoiceNumber"] == "SI-002"  # no number was used up
