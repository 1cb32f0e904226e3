"""Concurrent writers: invoice numbers stay unique and gapless, payments never overpay."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from api.services import build_services
from application.invoices import NewInvoice
from domain.errors import DomainError
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.support import META, FakeClock, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(100)),)


def test_concurrent_creation_gives_unique_contiguous_numbers(settings: Settings) -> None:
    # Two independent service stacks stand for two server processes on one database.
    stacks = [build_services(settings, FakeClock()) for _ in range(2)]
    try:
        tenant = make_tenant(stacks[0])
        client = stacks[0].app.create_client(tenant.account_id, {"name": "C"}, META)

        def create(i: int) -> str:
            app = stacks[i % 2].app
            new = NewInvoice(client_id=client.id, line_items=LINES)
            return app.create_invoice(tenant.account_id, new, META).number

        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(pool.map(create, range(40)))
        assert sorted(numbers) == [f"SI-{n:03d}" for n in range(1, 41)]
        today = stacks[1].app.clock.now().date()
        listed = stacks[1].queries.list_invoices(tenant.account_id, _all(), 100, None, today)
        listed_numbers = [json.loads(i)["invoiceNumber"] for i in listed.items]
        assert sorted(listed_numbers) == sorted(numbers)
    finally:
        for stack in stacks:
            stack.close()


def test_concurrent_full_payments_record_exactly_one(services: Services) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    invoice = services.app.create_invoice(
        tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES, status="SENT"), META
    )

    def pay(_: int) -> str:
        try:
            services.app.record_payment(tenant.account_id, invoice.id, None, None, None, None, META)
            return "paid"
        except DomainError as error:
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(pay, range(6)))
    assert outcomes.count("paid") == 1
    assert set(outcomes) == {"paid", "StateConflict"}
    final = services.app.get_invoice(tenant.account_id, invoice.id)
    assert final.totals.amount_paid == Decimal("100.00") and final.status == "PAID"


def test_separate_accounts_number_independently(services: Services) -> None:
    numbers = []
    for name in ("A", "B"):
        tenant = make_tenant(services, name=name)
        client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
        new = NewInvoice(client_id=client.id, line_items=LINES)
        numbers.append(services.app.create_invoice(tenant.account_id, new, META).number)
    assert numbers == ["SI-001", "SI-001"]


def _all():  # type: ignore[no-untyped-def]
    from application.ports import InvoiceFilter

    return InvoiceFilter()
