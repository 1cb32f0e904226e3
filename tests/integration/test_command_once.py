"""A command runs once: failures after its commit never re-run it or report it as failed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from api.services import build_services
from application.invoices import NewInvoice
from domain.meta import Meta
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.support import META, FakeClock, make_tenant

LINES = (LineItem("Work", Decimal(10), Decimal(30)),)


def sent_invoice(services: Services) -> tuple[Any, Any]:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    return tenant, services.app.create_invoice(tenant.account_id, new, META)


def test_a_failure_after_the_commit_neither_repeats_the_payment_nor_fails_it(
    services: Services,
) -> None:
    tenant, invoice = sent_invoice(services)
    failures = []

    def views_unreachable(saved: Sequence[Any]) -> None:
        if not failures:
            failures.append(1)
            raise OperationalError("database is locked")

    services.app.on_saved(views_unreachable)
    paid, _ = services.app.record_payment(
        tenant.account_id, invoice.id, Decimal(10), None, None, None, META
    )
    assert failures == [1]
    stored = services.app.get_invoice(tenant.account_id, invoice.id)
    assert len(stored.payments) == 1 == len(paid.payments)
    assert stored.totals.amount_paid == Decimal("10.00")
    # The views were not told, yet the next catch-up applies the payment.
    services.projector.catch_up()
    today = services.app.clock.now().date()
    listed, _, _ = services.queries.list_outstanding(tenant.account_id, 20, None, today)
    paid = [json.loads(i, parse_float=Decimal)["amountPaid"] for i in listed.items]
    assert paid == [Decimal("10.00")]


def test_a_lock_timeout_while_saving_is_not_retried(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, invoice = sent_invoice(services)
    calls = []

    def insert_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise OperationalError("could not obtain lock")

    monkeypatch.setattr(services.app.recorder, "insert_events", insert_fails)
    with pytest.raises(OperationalError):
        services.app.record_payment(
            tenant.account_id, invoice.id, Decimal(10), None, None, None, META
        )
    assert calls == [1]  # whether it committed is unknown, so it is not run again
    monkeypatch.undo()
    assert services.app.get_invoice(tenant.account_id, invoice.id).payments == ()


def test_a_version_conflict_before_the_commit_is_retried_from_fresh_reads(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, invoice = sent_invoice(services)
    other_process = build_services(settings, FakeClock())
    real_insert = services.app.recorder.insert_events
    raced = []

    def another_writer_first(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(1)
            # Another process pays 5.00 between our read and our save.
            other_process.app.record_payment(
                tenant.account_id, invoice.id, Decimal(5), None, None, None, META
            )
        return real_insert(*args, **kwargs)

    try:
        monkeypatch.setattr(services.app.recorder, "insert_events", another_writer_first)
        services.app.record_payment(
            tenant.account_id, invoice.id, Decimal(10), None, None, None, META
        )
    finally:
        other_process.close()
    assert raced == [1]
    stored = services.app.get_invoice(tenant.account_id, invoice.id)
    assert sorted(p.amount for p in stored.payments) == [Decimal("5.00"), Decimal("10.00")]


def with_operation(operation: str) -> Meta:
    meta = Meta(**META)
    meta["operationId"] = operation
    return meta


def test_an_operation_run_again_returns_its_first_result(services: Services) -> None:
    tenant, invoice = sent_invoice(services)
    op = "8f4f7a4e-6a53-5c36-9d5c-3c1d1b6f1a01"
    _, p1 = services.app.record_payment(
        tenant.account_id, invoice.id, Decimal(10), None, None, None, with_operation(op)
    )
    again, p2 = services.app.record_payment(
        tenant.account_id, invoice.id, Decimal(10), None, None, None, with_operation(op)
    )
    assert p1 == p2 and len(again.payments) == 1

    client_op = "0b7e3c1e-8a55-5f7e-8c55-1d2a3b4c5d6e"
    c1 = services.app.create_client(tenant.account_id, {"name": "A"}, with_operation(client_op))
    c2 = services.app.create_client(tenant.account_id, {"name": "A"}, with_operation(client_op))
    assert c1.id == c2.id

    invoice_op = "5d1c2b3a-4e5f-5a6b-8c7d-9e0f1a2b3c4d"
    new = NewInvoice(client_id=c1.id, line_items=LINES)
    i1 = services.app.create_invoice(tenant.account_id, new, with_operation(invoice_op))
    i2 = services.app.create_invoice(tenant.account_id, new, with_operation(invoice_op))
    assert (i1.id, i1.number) == (i2.id, i2.number)
    nxt = services.app.create_invoice(tenant.account_id, new, META)
    assert nxt.number == "SI-003"  # the re-run took no number
