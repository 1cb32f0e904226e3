"""Archiving a client: gone from the list unless asked for, still readable, invoices keep it."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice, example_invoice
from tests.support import META, Tenant

Api = TestClient[Any]


def listed(client: Api, tenant: Tenant, **params: str) -> list[str]:
    r = client.get("/api/v1/clients", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["data"]]


def test_an_archived_client_leaves_the_list_but_can_still_be_read(
    client: Api, tenant: Tenant
) -> None:
    kept = create_client(client, tenant, name="Kept")
    gone = create_client(client, tenant, name="Gone")
    invoice = create_invoice(client, tenant, gone["id"])
    r = client.delete(f"/api/v1/clients/{gone['id']}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    archived = r.json()
    assert archived["archivedAt"] is not None and archived["name"] == "Gone"
    assert listed(client, tenant) == [kept["id"]]
    assert listed(client, tenant, includeArchived="true") == [gone["id"], kept["id"]]
    assert listed(client, tenant, search="gone") == []
    got = client.get(f"/api/v1/clients/{gone['id']}", headers=tenant.headers)
    assert got.status_code == 200 and got.json() == archived
    still = client.get(f"/api/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert still["clientId"] == gone["id"]
    again = client.delete(f"/api/v1/clients/{gone['id']}", headers=tenant.headers)
    assert again.status_code == 200 and again.json()["archivedAt"] == archived["archivedAt"]


def test_an_archived_client_takes_no_new_invoices(client: Api, tenant: Tenant) -> None:
    gone = create_client(client, tenant)
    client.delete(f"/api/v1/clients/{gone['id']}", headers=tenant.headers)
    r = client.post("/api/v1/invoices", json=example_invoice(gone["id"]), headers=tenant.headers)
    assert r.status_code == 400 and "clientId" in r.json()["error"]["details"]
    assert r.json()["error"]["code"] == "rule_violated"


def test_archiving_needs_the_write_scope_and_hides_other_accounts(
    client: Api, tenant: Tenant, other_tenant: Tenant, services: Services
) -> None:
    mine = create_client(client, tenant)
    reader = services.app.create_key(tenant.account_id, "reader", ["clients:read"], META)
    r = client.delete(
        f"/api/v1/clients/{mine['id']}", headers={"Authorization": f"Bearer {reader.token}"}
    )
    assert r.status_code == 403 and "clients:write" in r.json()["error"]["message"]
    r = client.delete(f"/api/v1/clients/{mine['id']}", headers=other_tenant.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    got = client.get(f"/api/v1/clients/{mine['id']}", headers=tenant.headers).json()
    assert got["archivedAt"] is None
