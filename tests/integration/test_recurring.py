"""Generation: each due occurrence becomes exactly one invoice, whoever runs the pass."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.services import build_services
from application.ports import InvoiceFilter
from application.recurring import NewRecurring
from domain.invoice import Invoice
from domain.recurring import RecurringInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from tests.support import META, FakeClock, Tenant, make_tenant

RETAINER = (LineItem("Retainer", Decimal(1), Decimal("500.00")),)


def new_template(
    services: Services, tenant: Tenant, email: str | None = "c@example.com", **kw: object
) -> RecurringInvoice:
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
    today = services.app.clock.now().date()
    page = services.queries.list_invoices(tenant.account_id, InvoiceFilter(), 100, None, today)
    return sorted(loaded(services, tenant, page.items), key=lambda i: i.number)


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
    assert all(i.recurring_invoice_id == t.id and i.totals.total == Decimal("600.00") for i in made)
    again = services.app.get_recurring(tenant.account_id, t.id)
    assert again.occurrences_generated == 3 and again.last_invoice_id == made[-1].id
    assert again.next_run_date == date(2026, 4, 30)


def test_auto_send_queues_an_email_or_says_why_not(services: Services) -> None:
    tenant = make_tenant(services)
    with_email = new_template(services, tenant, auto_send=True)
    without = new_template(services, tenant, email=None, auto_send=True)
    services.recurring.run_once(date(2026, 1, 31))
    by_template = {i.recurring_invoice_id: i for i in invoices(services, tenant)}
    sent = by_template[with_email.id]
    assert sent.status == "SENT" and [e.to_email for e in sent.emails] == ["c@example.com"]
    draft = by_template[without.id]
    assert draft.status == "DRAFT" and not draft.emails
    log = services.queries.audit_log(
        tenant.account_id,
        AuditFilter(entity_id=str(without.id)),
        100,
        None,
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
    services.app.change_recurring_status(tenant.account_id, t.id, "pause", META)
    assert services.recurring.run_once(date(2026, 3, 1)) == 0
    services.app.change_recurring_status(tenant.account_id, t.id, "resume", META)
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
    ]
    assert actions == [
        "recurring_invoice.created",
        "recurring_invoice.invoice_generated",
        "recurring_invoice.ended",
    ]


def started_days_ago(
    services: Services, clock: FakeClock, days: int, **kw: Any
) -> tuple[Tenant, RecurringInvoice]:
    """A DAILY template created `days` ago and starting that day; the clock is now today."""
    clock.advance(days=-days)
    tenant = make_tenant(services)
    start = clock.now().astimezone(UTC).date()
    template = new_template(services, tenant, frequency="DAILY", start_date=start, **kw)
    clock.advance(days=days)
    return tenant, template


def all_invoices(services: Services, tenant: Tenant) -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        today = services.app.clock.now().date()
        page = services.queries.list_invoices(
            tenant.account_id, InvoiceFilter(), 100, cursor, today
        )
        found += loaded(services, tenant, page.items)
        if page.next_cursor is None:
            return sorted(found, key=lambda i: i.issue_date)
        cursor = page.next_cursor


def test_a_long_catch_up_is_spread_over_passes_of_at_most_500(
    services: Services, clock: FakeClock
) -> None:
    tenant, template = started_days_ago(services, clock, 731)
    assert services.recurring.run_once() == 500
    assert len(all_invoices(services, tenant)) == 500
    assert services.recurring.run_once() == 232  # 732 days, the start and today included
    assert services.recurring.run_once() == 0
    made = all_invoices(services, tenant)
    start = made[0].issue_date
    assert [i.issue_date for i in made] == [start + timedelta(days=n) for n in range(732)]
    assert sorted(i.number for i in made) == [f"SI-{n:03d}" for n in range(1, 733)]
    assert {i.recurring_invoice_id for i in made} == {template.id}


def test_auto_send_sends_only_the_last_7_days_of_a_catch_up(
    services: Services, clock: FakeClock
) -> None:
    tenant, template = started_days_ago(services, clock, 20, auto_send=True)
    assert services.recurring.run_once() == 21
    today = clock.now().astimezone(UTC).date()
    made = all_invoices(services, tenant)
    sent = [i for i in made if i.status == "SENT"]
    assert [(today - i.issue_date).days for i in sent] == list(range(7, -1, -1))
    assert all(len(i.emails) == 1 for i in sent)
    drafts = [i for i in made if i.status == "DRAFT"]
    assert len(drafts) == 13 and not any(i.emails for i in drafts)
    skipped = skipped_reasons(services, tenant, template)
    assert len(skipped) == 13 and all("more than 7 days ago" in r for r in skipped)
    assert services.outbox.run_once() == 8


def test_auto_send_over_the_email_cap_leaves_drafts_and_says_why(
    settings: Settings, clock: FakeClock
) -> None:
    capped = dataclasses.replace(settings, email_hourly_limit=2)
    services = build_services(capped, clock)
    try:
        tenant, template = started_days_ago(services, clock, 3, auto_send=True)
        assert services.recurring.run_once() == 4
        statuses = [i.status for i in all_invoices(services, tenant)]
        assert sorted(statuses) == ["DRAFT", "DRAFT", "SENT", "SENT"]
        skipped = skipped_reasons(services, tenant, template)
        assert len(skipped) == 2 and all("sending limit" in r for r in skipped)
    finally:
        services.close()


def skipped_reasons(services: Services, tenant: Tenant, template: RecurringInvoice) -> list[str]:
    log = services.queries.audit_log(
        tenant.account_id,
        AuditFilter(entity_id=str(template.id), action="recurring_invoice.auto_send_skipped"),
        100,
        None,
    ).items
    return [e["data"]["reason"] for e in log]


def loaded(services: Services, tenant: Tenant, documents: Sequence[bytes]) -> list[Invoice]:
    """The listed invoices as aggregates (the list returns their API documents)."""
    ids = [UUID(json.loads(d)["id"]) for d in documents]
    return [services.app.get_invoice(tenant.account_id, i) for i in ids]
