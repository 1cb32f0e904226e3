"""Lists: filters, search, ordering and cursor pagination that never skips or repeats."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from litestar.testing import TestClient

from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import META, FakeClock, Tenant


def collect(client: TestClient, tenant: Tenant, path: str, limit: int) -> list[str]:  # type: ignore[type-arg]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params=params, headers=tenant.headers).json()
        assert page["pagination"]["limit"] == limit
        seen += [item["id"] for item in page["data"]]
        if not page["pagination"]["hasMore"]:
            assert page["pagination"]["nextCursor"] is None
            return seen
        cursor = page["pagination"]["nextCursor"]


def test_paging_neither_skips_nor_repeats_while_invoices_are_created(
    client: TestClient,
    tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    c = create_client(client, tenant)
    existing = [create_invoice(client, tenant, c["id"])["id"] for _ in range(25)]
    stop = threading.Event()

    def keep_creating() -> None:
        lines = (LineItem("x", Decimal(1), Decimal(1)),)
        from uuid import UUID

        while not stop.is_set():
            services.app.create_invoice(
                tenant.account_id, NewInvoice(client_id=UUID(c["id"]), line_items=lines), META
            )

    writer = threading.Thread(target=keep_creating)
    writer.start()
    try:
        seen = collect(client, tenant, "/api/v1/invoices", 4)
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen))
    assert set(existing) <= set(seen)
    # Newest first: the pre-existing invoices come out in reverse creation order.
    assert [i for i in seen if i in set(existing)] == existing[::-1]


def test_clients_page_through_newest_first(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    ids = [create_client(client, tenant, name=f"Client {i}")["id"] for i in range(7)]
    assert collect(client, tenant, "/api/v1/clients", 3) == ids[::-1]


def test_client_search_matches_name_company_or_email_ignoring_case(
    client: TestClient,
    tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    a = create_client(client, tenant, name="Alice Smith", company="Zeta", email="a@one.com")
    b = create_client(client, tenant, name="Bob", company="ACME Widgets", email="b@two.com")
    c = create_client(client, tenant, name="Carol", company=None, email="carol@AcmeMail.com")
    create_client(client, tenant, name="Dan", company="Other", email="d@three.com")

    def search(term: str) -> set[str]:
        r = client.get("/api/v1/clients", params={"search": term}, headers=tenant.headers)
        return {x["id"] for x in r.json()["data"]}

    assert search("acme") == {b["id"], c["id"]}
    assert search("SMITH") == {a["id"]}
    assert search("two.com") == {b["id"]}
    assert search("100%") == set()
    assert search("_") == set()


def test_invoice_filters(client: TestClient, tenant: Tenant, clock: FakeClock) -> None:  # type: ignore[type-arg]
    c1 = create_client(client, tenant)["id"]
    c2 = create_client(client, tenant, name="Second")["id"]
    today = clock.now().date()
    past_due = create_invoice(
        client,
        tenant,
        c1,
        issueDate=str(today - timedelta(days=30)),
        dueDate=str(today - timedelta(days=1)),
        status="SENT",
    )
    draft = create_invoice(client, tenant, c2, issueDate=str(today), dueDate=str(today))
    sent_future = create_invoice(
        client,
        tenant,
        c2,
        issueDate=str(today),
        dueDate=str(today + timedelta(days=10)),
        status="SENT",
    )

    def ids(**params: str) -> list[str]:
        r = client.get("/api/v1/invoices", params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["data"]]

    assert ids(status="DRAFT") == [draft["id"]]
    assert ids(status="SENT") == [sent_future["id"], past_due["id"]]
    assert ids(status="OVERDUE") == [past_due["id"]]
    assert ids(clientId=c2) == [sent_future["id"], draft["id"]]
    assert ids(issueDateTo=str(today - timedelta(days=1))) == [past_due["id"]]
    assert ids(issueDateFrom=f"{today}T00:00:00Z") == [sent_future["id"], draft["id"]]
    assert ids(dueDateFrom=str(today + timedelta(days=1))) == [sent_future["id"]]
    assert ids(dueDateTo=str(today), status="SENT") == [past_due["id"]]
    overdue = client.get(f"/api/v1/invoices/{past_due['id']}", headers=tenant.headers).json()
    assert overdue["isOverdue"] is True
    assert (
        client.get(f"/api/v1/invoices/{draft['id']}", headers=tenant.headers).json()["isOverdue"]
        is False
    )


def test_outstanding_is_oldest_due_first_with_a_summary_over_all_pages(
    client: TestClient,
    tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    c = create_client(client, tenant)["id"]
    due_dates = ["2026-03-05", "2026-03-01", "2026-03-03", "2026-03-02"]
    made = {
        d: create_invoice(client, tenant, c, issueDate="2026-02-01", dueDate=d, status="SENT")["id"]
        for d in due_dates
    }
    jpy = create_invoice(
        client,
        tenant,
        c,
        currency="JPY",
        status="SENT",
        issueDate="2026-02-01",
        dueDate="2026-03-04",
        lineItems=[{"description": "x", "quantity": 3, "unitPrice": 500}],
        taxRate=0,
    )
    create_invoice(client, tenant, c)  # a DRAFT is not outstanding
    paid = create_invoice(client, tenant, c, status="SENT")
    client.post(f"/api/v1/invoices/{paid['id']}/paid", headers=tenant.headers)
    void = create_invoice(client, tenant, c, status="SENT")
    client.post(f"/api/v1/invoices/{void['id']}/void", headers=tenant.headers)

    order = collect(client, tenant, "/api/v1/invoices/outstanding", 2)
    expected = [
        made["2026-03-01"],
        made["2026-03-02"],
        made["2026-03-03"],
        jpy["id"],
        made["2026-03-05"],
    ]
    assert order == expected
    first = client.get(
        "/api/v1/invoices/outstanding", params={"limit": "1"}, headers=tenant.headers
    )
    assert first.json()["summary"]["count"] == 5
    assert '"totalDue":{"GBP":3600.00,"JPY":1500}' in first.text
