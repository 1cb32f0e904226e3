"""Generation: each due occurrence becomes exactly one invoice, whoever runs the pass."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from api.wiring import Services, build_services
from application.ports import InvoiceFilter
from application.recurring import NewRecurring
from domain.values import LineItem
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from tests.support import META, FakeClock, Tenant, make_tenant

RETAINER = (LineItem("Retainer", Decimal(1), Decimal("500.00")),)


def new_template(
    services: Services, tenant: Tenant, email: str | None = "c@example.com", **kw: object
) -> object:
    client = services.app.create_client(tenant.account_id, {"name": "C", "email": email}, META)
    fields: dict[str, object] = dict(
        client_id=client.id,
        frequency="MONTHLY",
        interval=1,
        start_date=date(2026, 1, 31),
        line_items=RETAINER,
        tax_rate=Decimal(20),
        tax_name="VAT",
    )
    fields.update(kw)
    return services.app.create_recurring(tenant.account_id, NewRecurring(**fields), META)  # type: ignore[arg-type]


def invoices(services: Services, tenant: Tenant) -> list:  # type: ignore[type-arg]
    page = services.queries.list_invoices(tenant.account_id, InvoiceFilter(), 100, None)
    return sorted(page.items, key=lambda i: i.number)


def test_missed_occurrences_are_caught_up_once(services: Services) -> None:
    tenant = make_tenant(services)
    t = new_template(services, tenant, payment_terms_days=30)
    assert services.recurring.run_once(date(2026, 4, 15)) == 3
    assert services.recurring.run_once(date(2026, 4, 15)) == 0
    made = invoices(services, tenant)
    assert [(i.number, i.issue_date, i.due_date) for i in made] == [
        ("SI-001", date(2026, 1, 31), date(2026, 3, 2)),
        ("SI-002", date(2026, 2, 28), date(2026, 3, 30)),
        ("SI-003", date(2026, 3, 31), date(2026, 4, 30)),
    ]
    assert all(i.recurring_invoice_id == t.id and i.totals.total == Decimal("600.00") for i in made)  # type: ignore[attr-defined]
    again = services.app.get_recurring(tenant.account_id, t.id)  # type: ignore[attr-defined]
    assert again.occurrences_generated == 3 and again.last_invoice_id == made[-1].id
    assert again.next_run_date == date(2026, 4, 30)


def test_auto_send_queues_an_email_or_says_why_not(services: Services) -> None:
    tenant = make_tenant(services)
    with_email = new_template(services, tenant, auto_send=True)
    without = new_template(services, tenant, email=None, auto_send=True)
    services.recurring.run_once(date(2026, 1, 31))
    by_template = {i.recurring_invoice_id: i for i in invoices(services, tenant)}
    sent = by_template[with_email.id]  # type: ignore[attr-defined]
    assert sent.status == "SENT" and [e.to_email for e in sent.emails] == ["c@example.com"]
    draft = by_template[without.id]  # type: ignore[attr-defined]
    assert draft.status == "DRAFT" and not draft.emails
    log = services.queries.audit_log(
        tenant.account_id,
        AuditFilter(entity_id=str(without.id)),
        100,
        None,  # type: ignore[attr-defined]
    ).items
    skipped = [e for e in log if e["action"] == "recurring_invoice.auto_send_skipped"]
    assert skipped and "no email address" in skipped[0]["data"]["reason"]
    assert [e["action"] for e in log][1] == "recurring_invoice.invoice_generated"
    assert services.outbox.run_once() == 1


def test_racing_passes_in_two_processes_never_duplicate_or_skip(settings: Settings) -> None:
    stacks = [build_services(settings, FakeClock()) for _ in range(2)]
    try:
        tenant = make_tenant(stacks[0])
        for _ in range(5):
            new_template(stacks[0], tenant, frequency="WEEKLY", start_date=date(2026, 1, 1))
        today = date(2026, 3, 1)  # 9 weekly occurrences each
        with ThreadPoolExecutor(4) as pool:
            counts = list(pool.map(lambda s: s.recurring.run_once(today), stacks * 2))
        assert sum(counts) == 45
        made = invoices(stacks[1], tenant)
        assert len(made) == 45
        assert [i.number for i in made] == [f"SI-{n:03d}" for n in range(1, 46)]
        pairs = {(i.recurring_invoice_id, i.issue_date) for i in made}
        assert len(pairs) == 45
    finally:
        for s in stacks:
            s.close()


def test_a_paused_template_generates_nothing_until_resumed(services: Services) -> None:
    tenant = make_tenant(services)
    t = new_template(services, tenant)
    services.app.change_recurring_status(tenant.account_id, t.id, "pause", META)  # type: ignore[attr-defined]
    assert services.recurring.run_once(date(2026, 3, 1)) == 0
    services.app.change_recurring_status(tenant.account_id, t.id, "resume", META)  # type: ignore[attr-defined]
    assert services.recurring.run_once(date(2026, 3, 1)) == 2


def test_generation_is_audited(services: Services) -> None:
    tenant = make_tenant(services)
    t = new_template(services, tenant, max_occurrences=1)
    services.recurring.run_once(date(2026, 2, 1) + timedelta(days=0))
    actions = [
        e["action"]
        for e in services.queries.audit_log(
            tenant.account_id, AuditFilter(entity_id=str(t.id)), 100, None
        ).items
    ]  # type: ignore[attr-defined]
    assert actions == [
        "recurring_invoice.created",
        "recurring_invoice.invoice_generated",
        "recurring_invoice.ended",
    ]
