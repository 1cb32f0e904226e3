"""The events feed and as-of reads: what an integrator replaying Experi's events sees."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant, make_tenant

FEED = "/api/v1/events"


def feed(api: TestClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    """Every event the query matches, following the cursor to the end."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        r = api.get(FEED, params=query, headers=tenant.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        events += body["data"]
        cursor = body["pagination"]["nextCursor"]
        if not body["pagination"]["hasMore"]:
            return events


def now_text() -> str:
    time.sleep(0.002)  # the next event is stamped after this moment
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def test_feed_lists_each_change_with_its_resource_as_it_then_stood(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    customer = create_client(client, tenant)
    invoice = create_invoice(client, tenant, customer["id"])
    path = f"/api/v1/invoices/{invoice['id']}"
    part = client.post(f"{path}/paid", json={"amount": 10}, headers=tenant.headers).json()
    rest = client.post(f"{path}/paid", json={}, headers=tenant.headers).json()

    events = feed(client, tenant)
    assert [e["type"] for e in events] == [
        "client.created",
        "invoice.created",
        "invoice.issued",  # a DRAFT is issued by its first payment
        "invoice.partially_paid",
        "invoice.paid",
    ]
    assert len({e["id"] for e in events}) == 5
    assert [e["entityId"] for e in events] == [customer["id"]] + [invoice["id"]] * 4
    assert events[0]["data"]["object"] == customer
    assert events[1]["data"]["object"] == invoice
    assert events[2]["data"]["object"]["status"] == "SENT"
    assert events[2]["data"]["object"]["payments"] == []
    assert events[3]["data"]["object"] == part
    assert events[4]["data"]["object"] == rest
    assert events[4]["actor"]["type"] == "api_key"
    assert all(e["requestId"] for e in events)
    # Ids never change: the same feed read again is the same feed.
    assert feed(client, tenant) == events


def test_feed_filters(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    first = create_invoice(client, tenant)
    second = create_invoice(client, tenant)
    client.post(f"/api/v1/invoices/{second['id']}/paid", json={}, headers=tenant.headers)

    paid = feed(client, tenant, type="invoice.paid")
    assert [e["entityId"] for e in paid] == [second["id"]]
    invoices = feed(client, tenant, type="invoice.*")
    assert {e["entityType"] for e in invoices} == {"invoice"}
    assert len(invoices) == 4  # two created, one issued, one paid
    mixed = feed(client, tenant, type=["client.created", "invoice.paid"])
    assert [e["type"] for e in mixed] == ["client.created", "client.created", "invoice.paid"]
    mine = feed(client, tenant, entityId=first["id"])
    assert [e["type"] for e in mine] == ["invoice.created"]

    every = feed(client, tenant)
    middle = every[2]["createdAt"]
    later = feed(client, tenant, createdFrom=middle)
    assert later == every[2:]
    earlier = feed(client, tenant, createdTo=middle)
    assert earlier == every[:3]


def test_feed_refuses_bad_filters_in_the_error_shape(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    for params in (
        {"type": "invoice.exploded"},
        {"type": "nothing.*"},
        {"type": "invoice.paid,invoice.voided"},
        {"entityId": "not-a-uuid"},
        {"createdFrom": "yesterday"},
        {"cursor": "bogus"},
        {"limit": "0"},
    ):
        r = client.get(FEED, params=params, headers=tenant.headers)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] in {"validation_failed", "invalid_cursor"}


def test_another_accounts_events_are_never_visible(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    theirs = create_invoice(client, other_tenant)
    create_invoice(client, tenant)
    assert all(e["entityId"] != theirs["id"] for e in feed(client, tenant))
    assert feed(client, tenant, entityId=theirs["id"]) == []
    asof = client.get(
        f"/api/v1/invoices/{theirs['id']}",
        params={"asOf": now_text()},
        headers=tenant.headers,
    )
    assert asof.status_code == 404


def test_the_feed_needs_its_scope(services: Services, client: TestClient) -> None:  # type: ignore[type-arg]
    reader = make_tenant(services, "invoices:read")
    r = client.get(FEED, headers=reader.headers)
    assert r.status_code == 403
    assert "events:read" in r.json()["error"]["message"]


def test_as_of_after_each_change_matches_what_the_api_returned_then(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    before = now_text()
    invoice = create_invoice(client, tenant)
    path = f"/api/v1/invoices/{invoice['id']}"
    seen = [(now_text(), invoice)]
    steps = [
        ("PATCH", path, {"notes": "Second draft"}),
        ("POST", f"{path}/paid", {"amount": 5}),
        ("POST", f"{path}/paid", {"amount": 7}),
        ("POST", f"{path}/paid", {}),
    ]
    for method, url, body in steps:
        r = client.request(method, url, json=body, headers=tenant.headers)
        assert r.status_code == 200, r.text
        seen.append((now_text(), r.json()))

    for moment, returned in seen:
        r = client.get(path, params={"asOf": moment}, headers=tenant.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body.pop("asOf").startswith(moment[:19])
        assert body == returned
    gone = client.get(path, params={"asOf": before}, headers=tenant.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"

    history = client.get(f"{path}/history", headers=tenant.headers).json()["data"]
    states = []
    for entry in history:
        linked = client.get(entry["asOfUrl"], headers=tenant.headers)
        assert linked.status_code == 200
        states.append({k: v for k, v in linked.json().items() if k != "asOf"})
    # The first payment issued the DRAFT first: an entry of its own, between two responses.
    issued = [e["action"] for e in history].index("invoice.issued")
    assert states[issued]["status"] == "SENT" and states[issued]["payments"] == []
    del states[issued]
    assert states == [returned for _, returned in seen]


def test_as_of_on_clients_and_bad_moments(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    customer = create_client(client, tenant)
    path = f"/api/v1/clients/{customer['id']}"
    moment = now_text()
    r = client.patch(path, json={"city": "Leeds"}, headers=tenant.headers)
    assert r.status_code == 200
    then = client.get(path, params={"asOf": moment}, headers=tenant.headers).json()
    then.pop("asOf")
    assert then == customer
    assert client.get(path, headers=tenant.headers).json()["city"] == "Leeds"
    for bad in ("2026-02-30T00:00:00Z", "2026-02-10", "soon", "2026-02-10T10:00:00"):
        r = client.get(path, params={"asOf": bad}, headers=tenant.headers)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "validation_failed"


def test_a_follower_keeps_its_cursor_at_the_end_and_gets_only_new_events(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
) -> None:
    empty = client.get(FEED, headers=tenant.headers).json()
    assert empty["data"] == [] and empty["pagination"]["nextCursor"] is None
    create_client(client, tenant)
    first = client.get(FEED, headers=tenant.headers).json()
    assert len(first["data"]) == 1 and first["pagination"]["hasMore"] is False
    cursor = first["pagination"]["nextCursor"]
    caught_up = client.get(FEED, params={"cursor": cursor}, headers=tenant.headers).json()
    assert caught_up["data"] == [] and caught_up["pagination"]["nextCursor"] == cursor
    invoice = create_invoice(client, tenant)
    later = client.get(FEED, params={"cursor": cursor}, headers=tenant.headers).json()
    assert [e["type"] for e in later["data"]] == ["client.created", "invoice.created"]
    assert later["data"][1]["data"]["object"] == invoice
