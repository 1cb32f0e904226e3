"""`experi events export`: the feed as JSON lines on stdout, a progress bar on stderr."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

from api.services import build_services
from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.settings import Settings
from projections.events_feed import FeedFilter
from tests.e2e.test_server import EXPERI, base_env
from tests.support import META, FakeClock, make_tenant

LINES = (LineItem("Work", Decimal(2), Decimal("50.00")),)


def export(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXPERI, "events", "export", *args],
        env=base_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_streams_the_feed_and_resumes_after_an_event(settings: Settings) -> None:
    s = build_services(settings, FakeClock())
    try:
        tenant, other = make_tenant(s), make_tenant(s, name="Other Ltd")
        customer = s.app.create_client(tenant.account_id, {"name": "Acme"}, META)
        s.app.create_client(other.account_id, {"name": "Not theirs"}, META)
        for _ in range(5):
            invoice = s.app.create_invoice(
                tenant.account_id, NewInvoice(client_id=customer.id, line_items=LINES), META
            )
        s.app.record_payment(tenant.account_id, invoice.id, None, None, None, None, META)
        feed = s.queries.events(tenant.account_id, FeedFilter(), 100, None).items
        expected = [json.loads(body) for body in feed]
    finally:
        s.close()
    assert len(expected) == 1 + 5 + 2  # the client, five invoices, issued and paid

    done = export(settings, "--account", str(tenant.account_id))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == expected
    assert "8/8 events" in done.stderr and "100%" in done.stderr

    after = export(settings, "--account", str(tenant.account_id), "--since", expected[2]["id"])
    assert [json.loads(line) for line in after.stdout.splitlines()] == expected[3:]
    since = export(settings, "--account", str(tenant.account_id), "--since", "2100-01-01T00:00:00Z")
    assert since.returncode == 0 and since.stdout == ""

    unknown = export(
        settings, "--account", str(tenant.account_id), "--since", expected[0]["id"][::-1]
    )
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
