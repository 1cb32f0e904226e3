"""No password, password hash, key hash or key secret in any response, audit entry or log."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from api.app import create_app
from application.sending import DeliveryPolicy
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.api.helpers import create_client, create_invoice
from tests.api.test_portal import PASSWORD, csrf_of, sign_up
from tests.support import META, FakeClock, Tenant

HASH_MARKERS = ("$argon2", "$2b$", "$2a$", "$2y$")


class BrokenMailer:
    def send(self, email: Any) -> None:
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def clock() -> FakeClock:
    """The examples' dates (a start in March 2026) stay within the allowed window."""
    return FakeClock(datetime(2026, 2, 20, 12, tzinfo=UTC))


@pytest.fixture
def web(services: Services, settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """Portal and API on one HTTPS client, with the access log on (it goes to stdout)."""
    app = create_app(settings, services=services)
    with TestClient(app, base_url="https://testserver.local") as client:
        yield client


def key_id(token: str) -> UUID:
    return UUID(token.split("_")[2])


def portal_key(web: TestClient, csrf: str, name: str) -> str:  # type: ignore[type-arg]
    r = web.post("/dashboard/developer/keys", data={"csrf": csrf, "name": name, "scopes": ["all"]})
    assert r.status_code == 200 and r.history[0].status_code == 303, r.text
    match = re.search(r'id="secret">(exp_live_[^<]+)<', r.text)
    assert match, r.text[:500]
    return match.group(1)


def all_pages(web: TestClient, path: str, headers: dict[str, str]) -> list[Any]:  # type: ignore[type-arg]
    items: list[Any] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        r = web.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["data"]
        cursor = body["pagination"].get("nextCursor")
        if not body["pagination"].get("hasMore") or not cursor:
            return items


def produce_every_kind_of_entry(
    web: TestClient,  # type: ignore[type-arg]
    services: Services,
) -> tuple[Tenant, list[str]]:
    """A portal user, keys made and revoked, and everything the API can change."""
    assert sign_up(web).status_code == 303
    [account] = services.queries.list_accounts()
    csrf = csrf_of(web.get("/dashboard").text)
    services.app.set_plan(account.id, "PRO", META)
    web.post("/dashboard/request-api-access", data={"csrf": csrf})
    services.app.approve_api(account.id, META)
    token = portal_key(web, csrf, "main")
    spare = portal_key(web, csrf, "spare")
    r = web.post(f"/dashboard/developer/keys/{key_id(spare)}/revoke", data={"csrf": csrf})
    assert r.status_code in (200, 303)
    cli_key = services.app.create_key(account.id, "cli", ["read"], META)
    services.app.revoke_key(cli_key.key.id, META)
    tenant = Tenant(account.id, key_id(token), token)
    h = tenant.headers

    assert web.patch("/api/v1/account", json={"businessName": "Shop"}, headers=h).status_code == 200
    c = create_client(web, tenant)
    assert web.patch(f"/api/v1/clients/{c['id']}", json={"city": "York"}, headers=h).is_success
    draft = create_invoice(web, tenant, c["id"])
    assert web.patch(
        f"/api/v1/invoices/{draft['id']}", json={"notes": "thanks"}, headers=h
    ).is_success
    assert web.post(f"/api/v1/invoices/{draft['id']}/send", headers=h).status_code == 200
    services.outbox.run_once()  # invoice.email_delivered
    services.app.mailer = BrokenMailer()
    services.app.delivery_policy = DeliveryPolicy(max_attempts=1, base_delay=0)
    web.post(f"/api/v1/invoices/{draft['id']}/send", json={"toEmail": "ap@x.example"}, headers=h)
    services.outbox.run_once()  # invoice.email_failed
    paid = {"amount": 100, "paymentDate": "2026-02-12", "paymentMethod": "Card"}
    assert web.post(f"/api/v1/invoices/{draft['id']}/paid", json=paid, headers=h).is_success
    other = create_invoice(web, tenant, c["id"], status="SENT")
    assert web.post(f"/api/v1/invoices/{other['id']}/void", headers=h).is_success

    template = {
        "clientId": c["id"],
        "frequency": "MONTHLY",
        "interval": 1,
        "startDate": "2026-03-01T00:00:00Z",
        "currency": "GBP",
        "lineItems": [{"description": "Retainer", "quantity": 1, "unitPrice": 500}],
        "autoSend": True,
    }
    r = web.post("/api/v1/recurring-invoices", json=template, headers=h)
    assert r.status_code == 201, r.text
    t = r.json()["id"]
    base = f"/api/v1/recurring-invoices/{t}"
    assert web.patch(base, json={"notes": "monthly"}, headers=h).is_success
    assert web.post(f"{base}/pause", headers=h).is_success
    assert web.post(f"{base}/resume", headers=h).is_success
    services.recurring.run_once(date(2026, 3, 1))
    assert web.post(f"{base}/end", headers=h).is_success
    return tenant, [token, spare, cli_key.token]


def test_nothing_the_api_returns_or_logs_holds_a_secret(
    web: TestClient,  # type: ignore[type-arg]
    services: Services,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant, tokens = produce_every_kind_of_entry(web, services)
    user = services.app.log_in("me@shop.example", PASSWORD)
    hashes = [user.password_hash]
    for token in tokens:
        hashes.append(services.app.get_key(key_id(token)).secret_hash)
    session = web.cookies.get("experi_session")
    assert session

    h = tenant.headers
    exposed: list[Any] = []
    entries = all_pages(web, "/api/v1/audit-log", h)
    exposed.append(entries)
    actions = {e["action"] for e in entries}
    assert {
        "user.registered",
        "account.created",
        "account.plan_changed",
        "account.api_access_changed",
        "account.profile_updated",
        "api_key.created",
        "api_key.revoked",
        "client.created",
        "client.updated",
        "invoice.created",
        "invoice.updated",
        "invoice.sent",
        "invoice.email_delivered",
        "invoice.email_failed",
        "invoice.payment_recorded",
        "invoice.voided",
        "recurring_invoice.created",
        "recurring_invoice.updated",
        "recurring_invoice.paused",
        "recurring_invoice.resumed",
        "recurring_invoice.invoice_generated",
        "recurring_invoice.ended",
    } <= actions, actions
    for invoice in all_pages(web, "/api/v1/invoices", h):
        exposed.append(all_pages(web, f"/api/v1/invoices/{invoice['id']}/history", h))
        exposed.append(web.get(f"/api/v1/invoices/{invoice['id']}", headers=h).json())
    exposed.append(web.get("/api/v1/account", headers=h).json())
    exposed.append(web.get("/api/v1/audit-log/digest", headers=h).text)
    exposed.append(web.get("/dashboard/developer").text)
    access_log = capsys.readouterr().out  # one JSON line per request
    assert '"keyId"' in access_log and "/api/v1/audit-log" in access_log
    exposed.append(access_log)
    exposed.append(caplog.text)
    text = json.dumps(exposed)

    suspects = {
        "the password": PASSWORD,
        "the session token": session,
        **{f"hash marker {m}": m for m in HASH_MARKERS},
        **{f"hash #{i}": value for i, value in enumerate(hashes)},
        **{f"key secret #{i}": t.rsplit("_", 1)[1] for i, t in enumerate(tokens)},
    }
    # Only the names of what leaked, so a failure does not print the secrets themselves.
    assert [name for name, value in suspects.items() if value in text] == []
