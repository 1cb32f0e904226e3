"""The events feed of an invoice with many payments, on both databases: each row stores
the invoice without its payments, and every read gives them back, as they stood."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from projections import feed_payments
from projections.events_feed import FeedFilter
from tests.support import META, FakeClock, Tenant

PAYMENTS = feed_payments.MANY + 4


def paid_invoice(services: Services, tenant: Tenant, clock: FakeClock) -> UUID:
    """A SENT invoice of 100.00 with PAYMENTS part-payments of 1.00, a second apart."""
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "Many Payments Ltd"}, META)
    lines = (LineItem("Work", Decimal(1), Decimal(100)),)
    new = NewInvoice(client_id=client.id, line_items=lines, status="SENT")
    invoice = app.create_invoice(tenant.account_id, new, META)
    for n in range(PAYMENTS):
        clock.advance(seconds=1)
        app.record_payment(
            tenant.account_id, invoice.id, Decimal(1), None, "Bank", f"TXN-{n}", META
        )
    return invoice.id


def feed(services: Services, tenant: Tenant, invoice_id: UUID) -> list[bytes]:
    where = FeedFilter(entity_id=str(invoice_id))
    return list(services.queries.events(tenant.account_id, where, 100, None).items)


def stored(services: Services, invoice_id: UUID) -> list[str]:
    rows = services.db.rows(
        "SELECT body FROM view_events WHERE entity_id = ? ORDER BY seq", [str(invoice_id)]
    )
    return [str(row[0]) for row in rows]


def whole_bodies(
    services: Services, invoice_id: UUID, monkeypatch: pytest.MonkeyPatch
) -> list[bytes]:
    """Each event's body as it would be stored whole, from the event store."""
    app, events_feed = services.app, services.queries.feed
    with monkeypatch.context() as m:
        m.setattr(feed_payments, "MANY", 10**9)
        rows = []
        for event in app.events.get(invoice_id):
            state = app.repository.get(invoice_id, version=event.originator_version)
            document = events_feed.shapes[type(state)](state)
            rows.append(events_feed.body(event, state, document)[-1].encode())
    return rows


def from_rows_only(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any read that would take the payments from the event store."""

    def replay(*_: Any) -> bytes:
        raise AssertionError("the invoice's row should have given the payments")

    monkeypatch.setattr(services.queries.feed.payments, "document_at", replay)


def test_each_payment_event_carries_every_payment_the_invoice_then_had(
    services: Services, tenant: Tenant, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice_id = paid_invoice(services, tenant, clock)
    from_rows_only(services, monkeypatch)
    bodies = feed(services, tenant, invoice_id)
    assert len(bodies) == 1 + PAYMENTS
    assert bodies == whole_bodies(services, invoice_id, monkeypatch)  # byte for byte
    final = json.loads(services.queries.invoice(tenant.account_id, invoice_id, clock.now().date()))
    for k, body in enumerate(bodies):
        payments = json.loads(body)["data"]["object"]["payments"]
        assert payments == final["payments"][:k]
    assert [p["reference"] for p in final["payments"]] == [f"TXN-{n}" for n in range(PAYMENTS)]
    # Stored: the rows from the MANY-th payment on hold no payment, and are no larger.
    texts = stored(services, invoice_id)
    sizes = [len(t) for t in texts]
    many = feed_payments.MANY
    assert all("TXN-" in t for t in texts[2:many]) and all("TXN-" not in t for t in texts[many:])
    assert max(sizes[many:]) < sizes[many - 1] and max(sizes[many:]) - min(sizes[many:]) < 100


def test_a_payment_read_as_of_a_moment_has_the_payments_made_by_then(
    services: Services, tenant: Tenant, clock: FakeClock
) -> None:
    invoice_id = paid_invoice(services, tenant, clock)
    day = clock.now().date()
    moments = services.db.rows(
        "SELECT created_at FROM view_events WHERE entity_id = ? ORDER BY seq", [str(invoice_id)]
    )
    for k in (1, feed_payments.MANY - 1, feed_payments.MANY, PAYMENTS):
        at = str(moments[k][0])  # the k-th payment's
        read = services.queries.invoice_as_of(tenant.account_id, invoice_id, at, day)
        document = json.loads(read)
        assert len(document["payments"]) == k
        assert document["amountPaid"] == k
        assert document["payments"][-1]["reference"] == f"TXN-{k - 1}"


def document_row(services: Services, invoice_id: UUID) -> dict[str, Any]:
    row = services.db.statement(
        "SELECT document FROM view_invoices WHERE id = ?", [str(invoice_id)]
    )
    assert row is not None
    return dict(json.loads(bytes(row[0])))


@pytest.mark.parametrize("row", ["missing", "behind", "another account's"])
def test_when_the_invoice_row_cannot_give_them_they_come_from_the_event_store(
    services: Services,
    tenant: Tenant,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    row: str,
) -> None:
    """While a rebuild refills the rows, an invoice's row may be missing or behind; and
    only the account's own row is ever read (here another's has other payments)."""
    invoice_id = paid_invoice(services, tenant, clock)
    expected = whole_bodies(services, invoice_id, monkeypatch)
    document = document_row(services, invoice_id)
    with services.db.transaction() as cur:
        if row == "missing":
            cur.execute("DELETE FROM view_invoices WHERE id = ?", (str(invoice_id),))
        elif row == "behind":
            document["payments"] = document["payments"][:3]
            cur.execute(
                "UPDATE view_invoices SET document = ? WHERE id = ?",
                (json.dumps(document).encode(), str(invoice_id)),
            )
        else:
            altered = json.dumps(document).replace("TXN-", "XXX-")
            cur.execute(
                "UPDATE view_invoices SET account_id = ?, document = ? WHERE id = ?",
                (str(uuid4()), altered.encode(), str(invoice_id)),
            )
    payments = services.queries.feed.payments
    replays = []

    def replay(ident: UUID, version: int) -> bytes:
        replays.append(version)
        return document_at(ident, version)

    document_at = payments.document_at
    monkeypatch.setattr(payments, "document_at", replay)
    assert feed(services, tenant, invoice_id) == expected
    assert replays == [1 + PAYMENTS]  # once for the page, at its latest version


def test_rows_stored_whole_are_read_as_they_are(
    services: Services, tenant: Tenant, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row written whole (before this, or with few payments) is given as stored."""
    monkeypatch.setattr(feed_payments, "MANY", 10**9)
    invoice_id = paid_invoice(services, tenant, clock)
    texts = stored(services, invoice_id)
    assert all(not t.startswith(feed_payments.MARK) for t in texts)
    monkeypatch.setattr(feed_payments, "MANY", 16)
    assert feed(services, tenant, invoice_id) == [t.encode() for t in texts]
