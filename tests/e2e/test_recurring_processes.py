"""Recurring generation across real processes: racing, schedulers, and a kill mid-pass."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import date
from decimal import Decimal
from uuid import UUID

import httpx
import pytest

from api.services import build_services
from application.ports import InvoiceFilter
from application.recurring import NewRecurring
from domain.values import LineItem
from infrastructure.settings import Settings
from tests.e2e.test_server import EXPERI, base_env, server
from tests.support import META, FakeClock, Tenant, make_tenant


def seed(settings: Settings, templates: int, start: date) -> Tenant:
    s = build_services(settings, FakeClock())
    try:
        tenant = make_tenant(s)
        client = s.app.create_client(tenant.account_id, {"name": "C"}, META)
        for _ in range(templates):
            s.app.create_recurring(
                tenant.account_id,
                NewRecurring(
                    client_id=client.id,
                    frequency="MONTHLY",
                    interval=1,
                    start_date=start,
                    line_items=(LineItem("Retainer", Decimal(1), Decimal(100)),),
                ),
                META,
            )
        return tenant
    finally:
        s.close()


def check_exactly_once(settings: Settings, tenant: Tenant, expected: int) -> None:
    s = build_services(settings, FakeClock())
    try:
        made, cursor = [], None
        while True:
            today = s.app.clock.now().date()
            page = s.queries.list_invoices(tenant.account_id, InvoiceFilter(), 100, cursor, today)
            ids = [UUID(json.loads(d)["id"]) for d in page.items]
            made += [s.app.get_invoice(tenant.account_id, i) for i in ids]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(made) == expected
        assert len({(i.recurring_invoice_id, i.issue_date) for i in made}) == expected
        assert sorted(int(i.number.split("-")[1]) for i in made) == list(range(1, expected + 1))
    finally:
        s.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_run_due_processes_racing(settings: Settings) -> None:
    tenant = seed(settings, templates=10, start=date(2026, 1, 1))
    env = base_env(settings)
    cmd = [*EXPERI, "recurring", "run-due", "--now", "2026-06-15T12:00:00Z"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    counts = [int(o.split()[1]) for o in outputs]
    assert sum(counts) == 60  # Jan..Jun for 10 templates, shared between the two
    check_exactly_once(settings, tenant, 60)


def test_a_pass_killed_halfway_resumes_without_duplicates(settings: Settings) -> None:
    tenant = seed(settings, templates=60, start=date(2024, 1, 1))
    env = base_env(settings)
    cmd = [*EXPERI, "recurring", "run-due", "--now", "2026-12-15T00:00:00Z"]  # 36 each
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    time.sleep(2)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL  # it was still generating
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    check_exactly_once(settings, tenant, 2160)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_servers_with_their_schedulers(settings: Settings) -> None:
    today = date.today()
    start = date(today.year - 1, today.month, 1)
    tenant = seed(settings, templates=5, start=start)
    env = {**base_env(settings), "EXPERI_RECURRING_INTERVAL_SECONDS": "1"}
    expected = 5 * 13  # the 1st of each month from a year ago up to this month
    with server(env, workers=1) as (first, _), server(env, workers=1) as (second, _):
        deadline = time.monotonic() + 60
        headers = {"Authorization": f"Bearer {tenant.token}"}
        while time.monotonic() < deadline:
            listed = httpx.get(f"{first}/api/v1/recurring-invoices", headers=headers).json()["data"]
            if sum(t["occurrencesGenerated"] for t in listed) >= expected:
                break
            time.sleep(0.5)
        time.sleep(2)  # both schedulers get more passes in
        assert httpx.get(f"{second}/health/live").status_code == 200
    check_exactly_once(settings, tenant, expected)
