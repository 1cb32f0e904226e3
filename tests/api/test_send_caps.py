"""Email sending caps: per account per hour and per address per day, in every process."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.api.helpers import create_client, create_invoice
from tests.support import FakeClock, Tenant, make_tenant


@pytest.fixture
def capped(settings: Settings) -> Settings:
    return dataclasses.replace(settings, email_hourly_limit=3, email_recipient_daily_limit=2)


@pytest.fixture
def services(capped: Settings, clock: FakeClock) -> Iterator[Services]:
    s = build_services(capped, clock)
    try:
        yield s
    finally:
        s.close()


def send(api: TestClient, tenant: Tenant, invoice_id: str, to: str | None = None) -> Any:  # type: ignore[type-arg]
    return api.post(
        f"/api/v1/invoices/{invoice_id}/send",
        json={"toEmail": to} if to else None,
        headers=tenant.headers,
    )


def emails_of(api: TestClient, tenant: Tenant, invoice_id: str) -> list[Any]:  # type: ignore[type-arg]
    got = api.get(f"/api/v1/invoices/{invoice_id}", headers=tenant.headers)
    return got.json()["emails"]  # type: ignore[no-any-return]


def assert_refused(response: Any, cap: str) -> int:
    """A 429 in the contract's error shape; returns its Retry-After."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["statusCode"] == 429 and cap in error["message"]
    assert error.get("code", "rate_limited") == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1 and error["details"]["retryAfter"] == retry_after
    return retry_after


def test_the_fourth_send_in_an_hour_is_refused_and_queues_nothing(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    clock: FakeClock,
) -> None:
    inv = create_invoice(client, tenant)["id"]
    for to in ("a@acme.com", "b@acme.com", "c@acme.com"):
        assert send(client, tenant, inv, to).status_code == 200
    before = emails_of(client, tenant, inv)
    retry_after = assert_refused(send(client, tenant, inv, "d@acme.com"), "per hour")
    assert 3500 < retry_after <= 3600
    assert emails_of(client, tenant, inv) == before
    clock.advance(seconds=retry_after - 2)
    assert send(client, tenant, inv, "d@acme.com").status_code == 429
    clock.advance(seconds=2)  # Retry-After is honest: after it, the send goes through
    assert send(client, tenant, inv, "d@acme.com").status_code == 200


def test_the_third_email_to_one_address_in_a_day_is_refused(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    clock: FakeClock,
) -> None:
    inv = create_invoice(client, tenant)["id"]
    assert send(client, tenant, inv).status_code == 200  # the client's own address
    clock.advance(hours=2)
    assert send(client, tenant, inv, "JOHN@acme.com").status_code == 200
    clock.advance(hours=2)
    retry_after = assert_refused(send(client, tenant, inv, "john@acme.com"), "one address")
    assert retry_after == 20 * 3600  # when the first of the two is a day old
    assert len(emails_of(client, tenant, inv)) == 2
    assert send(client, tenant, inv, "other@acme.com").status_code == 200


def test_refused_sends_do_not_use_up_the_allowance(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    no_address = create_invoice(client, tenant, create_client(client, tenant, email=None)["id"])
    void = create_invoice(client, tenant)["id"]
    client.post(f"/api/v1/invoices/{void}/void", headers=tenant.headers)
    for _ in range(3):
        assert send(client, tenant, no_address["id"]).status_code == 400
        assert send(client, tenant, void, "x@acme.com").status_code == 409
    inv = create_invoice(client, tenant)["id"]
    for to in ("a@acme.com", "b@acme.com", "c@acme.com"):
        assert send(client, tenant, inv, to).status_code == 200


def test_another_account_is_unaffected(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    mine, theirs = create_invoice(client, tenant)["id"], create_invoice(client, other_tenant)["id"]
    for to in ("a@acme.com", "b@acme.com", "c@acme.com"):
        assert send(client, tenant, mine, to).status_code == 200
    assert send(client, tenant, mine, "d@acme.com").status_code == 429
    for to in ("a@acme.com", "a@acme.com", "b@acme.com"):
        assert send(client, other_tenant, theirs, to).status_code == 200


def test_two_processes_share_one_count(
    client: TestClient,  # type: ignore[type-arg]
    services: Services,
    capped: Settings,
    tenant: Tenant,
) -> None:
    # A second stack on the same database stands for a second server process.
    second = build_services(capped, FakeClock(services.app.clock.now()))
    try:
        with TestClient(create_app(capped, services=second)) as other:
            inv = create_invoice(client, tenant)["id"]
            assert send(client, tenant, inv, "a@acme.com").status_code == 200
            assert send(other, tenant, inv, "b@acme.com").status_code == 200
            assert send(client, tenant, inv, "c@acme.com").status_code == 200
            assert_refused(send(other, tenant, inv, "d@acme.com"), "per hour")
            assert_refused(send(client, tenant, inv, "d@acme.com"), "per hour")
            assert len(emails_of(other, tenant, inv)) == 3
            stranger = make_tenant(second, name="Stranger Ltd")
            assert send(other, stranger, create_invoice(other, stranger)["id"]).status_code == 200
    finally:
        second.close()
