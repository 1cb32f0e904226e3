"""Recurring invoices over HTTP: create, validate, list, update, pause, resume, end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client
from tests.support import FakeClock, Tenant


@pytest.fixture
def clock() -> FakeClock:
    """The examples' dates (a start in March 2026) stay within the allowed window."""
    return FakeClock(datetime(2026, 2, 20, 12, tzinfo=UTC))


def body(client_id: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "clientId": client_id,
        "frequency": "MONTHLY",
        "interval": 1,
        "startDate": "2026-03-01T00:00:00Z",
        "currency": "GBP",
        "lineItems": [{"description": "Retainer", "quantity": 1, "unitPrice": 500.00}],
        "autoSend": False,
    }
    data.update(overrides)
    return data


def create(client: TestClient, tenant: Tenant, **overrides: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    c = create_client(client, tenant)
    r = client.post(
        "/api/v1/recurring-invoices", json=body(c["id"], **overrides), headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_documented_example_creates_an_active_template(
    client: TestClient, tenant: Tenant
) -> None:  # type: ignore[type-arg]
    c = create_client(client, tenant)
    r = client.post("/api/v1/recurring-invoices", json=body(c["id"]), headers=tenant.headers)
    assert r.status_code == 201
    t = r.json()
    assert r.headers["location"] == f"/api/v1/recurring-invoices/{t['id']}"
    assert t["status"] == "ACTIVE" and t["nextRunDate"] == "2026-03-01T00:00:00Z"
    assert t["occurrencesGenerated"] == 0 and t["lastInvoiceId"] is None
    assert t["paymentTermsDays"] == 14 and t["endDate"] is None and t["maxOccurrences"] is None
    assert '"unitPrice":500.0' in r.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"frequency": "FORTNIGHTLY"}, "frequency"),
        ({"interval": 0}, "interval"),
        ({"interval": 366}, "interval"),
        ({"interval": 1.5}, "interval"),
        ({"startDate": "soon"}, "startDate"),
        ({"endDate": "2026-02-01"}, "endDate"),
        ({"maxOccurrences": 0}, "maxOccurrences"),
        ({"paymentTermsDays": -1}, "paymentTermsDays"),
        ({"autoSend": "yes"}, "autoSend"),
        ({"lineItems": []}, "lineItems"),
        ({"currency": "XYZ"}, "currency"),
        ({"clientId": "00000000-0000-0000-0000-000000000000"}, "clientId"),
        ({"cadence": "MONTHLY"}, "cadence"),
    ],
)
def test_every_field_is_validated(
    client: TestClient,
    tenant: Tenant,
    overrides: dict[str, Any],
    field: str,  # type: ignore[type-arg]
) -> None:
    c = create_client(client, tenant)
    r = client.post(
        "/api/v1/recurring-invoices", json=body(c["id"], **overrides), headers=tenant.headers
    )
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["details"]
    assert client.get("/api/v1/recurring-invoices", headers=tenant.headers).json()["data"] == []


def test_pause_resume_and_end(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    t = create(client, tenant)
    base = f"/api/v1/recurring-invoices/{t['id']}"
    assert client.post(f"{base}/pause", headers=tenant.headers).json()["status"] == "PAUSED"
    assert client.post(f"{base}/resume", headers=tenant.headers).json()["status"] == "ACTIVE"
    ended = client.post(f"{base}/end", headers=tenant.headers).json()
    assert ended["status"] == "ENDED" and ended["nextRunDate"] is None
    for action in ("pause", "resume", "end"):
        assert client.post(f"{base}/{action}", headers=tenant.headers).status_code == 409
    assert client.patch(base, json={"notes": "x"}, headers=tenant.headers).status_code == 409


def test_updates_and_the_schedule_lock(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    from datetime import date

    t = create(client, tenant)
    base = f"/api/v1/recurring-invoices/{t['id']}"
    r = client.put(
        base, json={"interval": 2, "notes": "Retainer", "endDate": None}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["interval"] == 2 and r.json()["notes"] == "Retainer"
    services.recurring.run_once(date(2026, 3, 1))
    got = client.get(base, headers=tenant.headers).json()
    assert got["occurrencesGenerated"] == 1 and got["nextRunDate"] == "2026-05-01T00:00:00Z"
    invoice = client.get(f"/api/v1/invoices/{got['lastInvoiceId']}", headers=tenant.headers).json()
    assert invoice["recurringInvoiceId"] == t["id"] and invoice["notes"] == "Retainer"
    assert (
        invoice["issueDate"] == "2026-03-01T00:00:00Z"
        and invoice["dueDate"] == "2026-03-15T00:00:00Z"
    )
    assert (
        client.patch(base, json={"frequency": "WEEKLY"}, headers=tenant.headers).status_code == 409
    )
    r = client.patch(base, json={"maxOccurrences": 1}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["status"] == "ENDED"


def test_other_accounts_templates_are_invisible(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:  # type: ignore[type-arg]
    t = create(client, tenant)
    base = f"/api/v1/recurring-invoices/{t['id']}"
    assert client.get(base, headers=other_tenant.headers).status_code == 404
    assert client.patch(base, json={"notes": "x"}, headers=other_tenant.headers).status_code == 404
    for action in ("pause", "resume", "end"):
        assert client.post(f"{base}/{action}", headers=other_tenant.headers).status_code == 404
    assert (
        client.get("/api/v1/recurring-invoices", headers=other_tenant.headers).json()["data"] == []
    )
    theirs = create_client(client, other_tenant)
    r = client.post("/api/v1/recurring-invoices", json=body(theirs["id"]), headers=tenant.headers)
    assert r.status_code == 400 and "clientId" in r.json()["error"]["details"]
    assert client.get(base, headers=tenant.headers).json()["status"] == "ACTIVE"


def test_recurring_scopes(client: TestClient, tenant: Tenant, services: Services) -> None:  # type: ignore[type-arg]
    from tests.support import META

    key = services.app.create_key(tenant.account_id, "ro", ["read"], META)
    headers = {"Authorization": f"Bearer {key.token}"}
    assert client.get("/api/v1/recurring-invoices", headers=headers).status_code == 200
    r = client.post("/api/v1/recurring-invoices", json={}, headers=headers)
    assert r.status_code == 403 and "recurring:write" in r.json()["error"]["message"]
