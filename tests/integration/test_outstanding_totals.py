"""The outstanding summary, kept per account and currency, always equals the invoices."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.invoices import NewInvoice
from application.ports import InvoiceFilter
from domain.errors import DomainError
from domain.values import LineItem
from infrastructure.bootstrap import Services
from projections import projector as projector_module
from projections.progress import Progress
from projections.projector import SCHEMA
from tests.support import META, make_tenant

CURRENCIES = ("GBP", "EUR", "JPY")
create = st.tuples(
    st.just("create"),
    st.sampled_from(CURRENCIES),
    st.sampled_from(["DRAFT", "SENT"]),
    st.integers(1, 500),
)
pay = st.tuples(st.just("pay"), st.integers(0, 20), st.sampled_from([None, Decimal("7")]))
void = st.tuples(st.just("void"), st.integers(0, 20))
recurrency = st.tuples(st.just("currency"), st.integers(0, 20), st.sampled_from(CURRENCIES))
operations = st.lists(st.one_of(create, create, pay, void, recurrency), min_size=1, max_size=14)


def expected(services: Services, account_id: Any) -> tuple[int, dict[str, Decimal]]:
    """The summary worked out from every invoice of the account, as the list shows it."""
    today = services.app.clock.now().date()
    page = services.queries.list_invoices(account_id, InvoiceFilter(), 100, None, today)
    docs = [json.loads(d) for d in page.items]
    open_ = [
        d
        for d in docs
        if d["status"] in ("SENT", "PARTIALLY_PAID") and Decimal(str(d["amountDue"])) > 0
    ]
    totals: Counter[str] = Counter()
    for d in open_:
        totals[d["currency"]] += Decimal(str(d["amountDue"]))  # type: ignore[assignment]
    return len(open_), {c: Decimal(v) for c, v in totals.items()}


def summary(services: Services, account_id: Any) -> tuple[int, dict[str, Decimal]]:
    today = services.app.clock.now().date()
    _, count, totals = services.queries.list_outstanding(account_id, 20, None, today)
    return count, totals


def run(services: Services, account_id: Any, client_id: Any, ops: list[Any]) -> None:
    app, made = services.app, []
    for op in ops:
        try:
            if op[0] == "create":
                item = (LineItem("Work", Decimal(1), Decimal(op[3])),)
                new = NewInvoice(client_id, item, currency=op[1], status=op[2])
                made.append(app.create_invoice(account_id, new, META).id)
            elif made and op[0] == "pay":
                target = made[op[1] % len(made)]
                app.record_payment(account_id, target, op[2], None, None, None, META)
            elif made and op[0] == "void":
                app.void_invoice(account_id, made[op[1] % len(made)], META)
            elif made and op[0] == "currency":
                app.update_invoice(account_id, made[op[1] % len(made)], {"currency": op[2]}, META)
        except DomainError:
            pass  # refused (paying a VOID invoice, editing a SENT one): changes nothing


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_the_summary_equals_the_open_invoices_after_any_changes_and_a_rebuild(
    services: Services, ops: list[Any]
) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    other = make_tenant(services)  # another account's invoices never count
    other_client = services.app.create_client(other.account_id, {"name": "O"}, META)
    run(services, other.account_id, other_client.id, [("create", "GBP", "SENT", 99)])

    run(services, tenant.account_id, client.id, ops)
    assert summary(services, tenant.account_id) == expected(services, tenant.account_id)
    assert summary(services, other.account_id) == (1, {"GBP": Decimal("99.00")})

    services.projector.rebuild()
    assert summary(services, tenant.account_id) == expected(services, tenant.account_id)


class WritesBetweenBatches(Progress):
    """A progress bar that, after each batch of a rebuild, makes one more change, as a
    server running beside the rebuild would; it interrupts the rebuild once."""

    def __init__(self, changes: list[Callable[[], object]]):
        super().__init__(io.StringIO())
        self.changes, self.interrupt_after = list(changes), 2

    def update(self, position: int) -> None:
        super().update(position)
        if self.changes:
            self.changes.pop(0)()
        self.interrupt_after -= 1
        if self.interrupt_after == 0:
            raise KeyboardInterrupt


def test_a_rebuild_counts_what_was_written_while_it_ran_and_resumed(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, tenant = services.app, make_tenant(services)
    account = tenant.account_id
    client = app.create_client(account, {"name": "C"}, META)

    def invoice(currency: str, amount: int) -> Any:
        item = (LineItem("Work", Decimal(1), Decimal(amount)),)
        return app.create_invoice(
            account, NewInvoice(client.id, item, currency=currency, status="SENT"), META
        ).id

    made = [invoice("GBP", 10), invoice("EUR", 20), invoice("GBP", 30), invoice("EUR", 40)]
    monkeypatch.setattr(projector_module, "BATCH", 3)  # many batches from a small store
    bar = WritesBetweenBatches(
        [
            lambda: made.append(invoice("JPY", 300)),
            lambda: app.record_payment(account, made[0], Decimal("4"), None, None, None, META),
            lambda: app.void_invoice(account, made[1], META),
            lambda: app.record_payment(account, made[2], None, None, None, None, META),
            lambda: made.append(invoice("GBP", 5)),
        ]
    )
    with pytest.raises(KeyboardInterrupt):
        services.projector.rebuild(bar)
    services.projector.rebuild(bar)  # resumes, with changes still landing between batches
    assert not bar.changes
    # Open: GBP 6 (10 less 4) and 5, EUR 40, JPY 300; one voided, one paid in full.
    count, totals = summary(services, account)
    assert (count, totals) == expected(services, account)
    assert count == 4
    assert totals == {"GBP": Decimal("11.00"), "EUR": Decimal("40.00"), "JPY": Decimal("300")}


# The one trigger of stores set up before each operation had its own (with WHEN).
OLD_TRIGGER = (
    "CREATE OR REPLACE FUNCTION view_invoices_totals() RETURNS trigger LANGUAGE plpgsql "
    "AS $b$ BEGIN IF TG_OP <> 'DELETE' AND NEW.status IN ('SENT', 'PARTIALLY_PAID') "
    "AND NEW.amount_due_minor > 0 THEN INSERT INTO view_outstanding VALUES "
    "(NEW.account_id, NEW.currency, 0, 0) ON CONFLICT (account_id, currency) DO NOTHING; "
    "UPDATE view_outstanding SET invoices = invoices + 1, "
    "due_minor = due_minor + NEW.amount_due_minor WHERE account_id = NEW.account_id "
    "AND currency = NEW.currency; END IF; RETURN NULL; END $b$",
    "CREATE OR REPLACE TRIGGER view_invoices_totals AFTER INSERT OR UPDATE OR DELETE "
    "ON view_invoices FOR EACH ROW EXECUTE FUNCTION view_invoices_totals()",
)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_store_set_up_before_counts_each_change_once(postgres: Services) -> None:
    services = postgres
    with services.db.transaction() as cur:
        for trigger in ("insert", "update", "delete"):
            cur.execute(f"DROP TRIGGER view_invoices_totals_{trigger} ON view_invoices")
        for statement in OLD_TRIGGER:
            cur.execute(statement)
        cur.execute("DELETE FROM projection_tracking WHERE name LIKE ?", (SCHEMA + "%",))
    services.projector.setup()  # as a process of this build opening that store

    app, tenant = services.app, make_tenant(services)
    account = tenant.account_id
    client = app.create_client(account, {"name": "C"}, META)
    item = (LineItem("Work", Decimal(1), Decimal(120)),)
    sent = app.create_invoice(account, NewInvoice(client.id, item, status="SENT"), META)
    app.create_invoice(account, NewInvoice(client.id, item), META)  # a DRAFT: no count
    assert summary(services, account) == (1, {"GBP": Decimal("120.00")})
    app.record_payment(account, sent.id, Decimal(20), None, None, None, META)
    assert summary(services, account) == (1, {"GBP": Decimal("100.00")})
    app.record_payment(account, sent.id, None, None, None, None, META)
    assert summary(services, account) == (0, {})
