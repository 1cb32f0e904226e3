"""The analytics example (examples/analytics/consumer.py) against the real API: its
projection agrees with the API's own figures, and a consumer stopped part-way resumes
without counting an event twice."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar.testing import TestClient

from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant

EXAMPLE = Path(__file__).parents[2] / "examples" / "analytics" / "consumer.py"


def consumer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("analytics_consumer", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed(api: TestClient, tenant: Tenant, client_id: str) -> None:  # type: ignore[type-arg]
    march = {"issueDate": "2026-03-05", "dueDate": "2026-04-04"}
    paid = create_invoice(api, tenant, client_id, **march)
    api.post(f"/api/v1/invoices/{paid['id']}/paid", json={}, headers=tenant.headers)
    part = create_invoice(api, tenant, client_id, currency="EUR")
    api.post(f"/api/v1/invoices/{part['id']}/paid", json={"amount": 25}, headers=tenant.headers)
    void = create_invoice(api, tenant, client_id)
    api.post(f"/api/v1/invoices/{void['id']}/void", headers=tenant.headers)
    create_invoice(api, tenant, client_id)  # a DRAFT: not invoiced


def expected(api: TestClient, tenant: Tenant) -> dict[str, Any]:  # type: ignore[type-arg]
    """The same figures from the API's invoice list."""
    out: dict[str, Any] = {}

    def cell(month: str, currency: str) -> dict[str, Decimal]:
        zero = {"invoiced": Decimal(0), "paid": Decimal(0), "outstanding": Decimal(0)}
        return out.setdefault(month, {}).setdefault(currency, zero)  # type: ignore[no-any-return]

    page = api.get("/api/v1/invoices", params={"limit": 100}, headers=tenant.headers)
    for inv in json.loads(page.content, parse_float=Decimal)["data"]:
        if inv["status"] in ("DRAFT", "VOID"):
            continue
        cell(inv["issueDate"][:7], inv["currency"])["invoiced"] += inv["total"]
        cell(inv["issueDate"][:7], inv["currency"])["outstanding"] += inv["amountDue"]
        for p in inv["payments"]:
            cell(p["paymentDate"][:7], inv["currency"])["paid"] += p["amount"]
    return out


def test_the_example_projection_matches_the_api_and_resumes(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    example = consumer()

    def fetch(path: str, params: dict[str, str]) -> dict[str, Any]:
        r = client.get(path, params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        return json.loads(r.content, parse_float=Decimal)  # type: ignore[no-any-return]

    customer = create_client(client, tenant)
    seed(client, tenant, customer["id"])
    store = tmp_path / "analytics.sqlite3"
    db = example.open_store(store)
    assert example.follow(db, fetch, pages=1, limit=3) == 3  # stopped part-way
    db.close()

    seed(client, tenant, customer["id"])  # more events while it was stopped
    db = example.open_store(store)  # restarted: resumes from its saved position
    applied = example.follow(db, fetch, limit=3)
    invoice_events = [
        e
        for e in client.get("/api/v1/events", params={"limit": 100}, headers=tenant.headers).json()[
            "data"
        ]
        if e["entityType"] == "invoice"
    ]
    assert 3 + applied == len(invoice_events)  # every event applied once
    assert example.report(db) == expected(client, tenant)
    outstanding = client.get("/api/v1/invoices/outstanding", headers=tenant.headers).json()
    totals: dict[str, Decimal] = {}
    for month in example.report(db).values():
        for currency, figures in month.items():
            totals[currency] = totals.get(currency, Decimal(0)) + figures["outstanding"]
    due = {c: Decimal(str(v)) for c, v in outstanding["summary"]["totalDue"].items()}
    assert {c: v for c, v in totals.items() if v} == due
    assert example.follow(db, fetch, limit=3) == 0  # caught up: nothing new
