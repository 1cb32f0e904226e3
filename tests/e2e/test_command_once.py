"""Two server processes under concurrent writes: every command runs once, nothing is lost.

Each request carries its own Idempotency-Key, and every response that is not a 2xx is
retried with the same key until it is, as a careful client would: the books must then
hold exactly one effect per key.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, make_key, server
from tests.mail_server import MailServer

UNLIMITED = {"EXPERI_WRITE_RATE_LIMIT": "1000000", "EXPERI_READ_RATE_LIMIT": "1000000"}


def post_until_done(
    base: str, path: str, headers: dict[str, str], body: Any, key: str
) -> tuple[int, list[int]]:
    """POST with one Idempotency-Key until a 2xx; the first status and every status seen."""
    seen: list[int] = []
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=60) as web:
        while True:
            try:
                response = web.post(
                    f"{base}{path}",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                )
                seen.append(response.status_code)
                if response.status_code < 300:
                    return seen[0], seen
                # 409: the same key still in flight; 503: the database was busy. A 500
                # would mean a command failed (perhaps after committing): never allowed.
                assert response.status_code in (409, 503), response.text
            except httpx.TransportError:
                seen.append(0)
            assert time.monotonic() < deadline, f"{path} never succeeded: {seen}"
            time.sleep(0.2)


def new_invoice(base: str, headers: dict[str, str], email: str | None = None) -> dict[str, Any]:
    client = httpx.post(
        f"{base}/api/v1/clients", json={"name": "Zed", "email": email}, headers=headers
    ).json()
    created = httpx.post(
        f"{base}/api/v1/invoices",
        json={
            "clientId": client["id"],
            "status": "SENT",
            "lineItems": [{"description": "Work", "quantity": 30, "unitPrice": 10}],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def test_concurrent_payments_on_two_processes_are_recorded_exactly_once(
    settings: Settings,
) -> None:
    env = {**base_env(settings), **UNLIMITED}
    headers = make_key(env)
    with server(env, workers=2) as (base, _):
        invoice = new_invoice(base, headers)
        path = f"/api/v1/invoices/{invoice['id']}/paid"
        body = {"amount": 10.00, "paymentMethod": "Card"}
        keys = [f"pay-{uuid.uuid4()}" for _ in range(20)]
        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(lambda k: post_until_done(base, path, headers, body, k), keys))
        after = httpx.get(f"{base}/api/v1/invoices/{invoice['id']}", headers=headers).json()
    assert len(after["payments"]) == 20, outcomes
    assert Decimal(str(after["amountPaid"])) == Decimal("200.00")
    assert Decimal(str(after["amountDue"])) == Decimal("100.00")
    assert after["status"] == "PARTIALLY_PAID"


def test_concurrent_sends_deliver_one_email_per_accepted_send(settings: Settings) -> None:
    mail = MailServer().start()
    try:
        env = {
            **base_env(settings),
            **UNLIMITED,
            "EXPERI_SMTP_URL": mail.url,
            "EXPERI_EMAIL_RETRY_SECONDS": "1",
        }
        headers = make_key(env)
        with server(env, workers=2) as (base, _):
            invoice = new_invoice(base, headers, email="zed@example.com")
            path = f"/api/v1/invoices/{invoice['id']}/send"
            keys = [f"send-{uuid.uuid4()}" for _ in range(10)]
            with ThreadPoolExecutor(max_workers=10) as pool:
                outcomes = list(
                    pool.map(lambda k: post_until_done(base, path, headers, {}, k), keys)
                )
            emails: list[dict[str, Any]] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                emails = httpx.get(
                    f"{base}/api/v1/invoices/{invoice['id']}", headers=headers
                ).json()["emails"]
                if len(emails) >= 10 and all(e["status"] == "SENT" for e in emails):
                    break
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate delivery would arrive within the next passes
        assert len(emails) == 10, outcomes
        assert all(e["status"] == "SENT" for e in emails)
        assert len(mail.inbox.messages) == 10
        assert len({m["Message-ID"] for m in mail.inbox.messages}) == 10
    finally:
        mail.stop()


def test_two_processes_editing_one_draft_lose_no_update(settings: Settings) -> None:
    env = {**base_env(settings), **UNLIMITED}
    headers = make_key(env)
    changes = [
        {"notes": "Thanks"},
        {"taxName": "VAT"},
        {"taxRate": 20},
        {"currency": "EUR"},
        {"dueDate": "2030-01-31"},
        {"issueDate": "2029-12-02"},
    ]
    with server(env, workers=2) as (base, _):
        client = httpx.post(f"{base}/api/v1/clients", json={"name": "Zed"}, headers=headers).json()
        draft = httpx.post(
            f"{base}/api/v1/invoices",
            json={
                "clientId": client["id"],
                "issueDate": "2029-12-01",
                "dueDate": "2029-12-15",
                "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 100}],
            },
            headers=headers,
        ).json()

        def patch(change: dict[str, Any]) -> int:
            with httpx.Client(timeout=60) as web:
                url = f"{base}/api/v1/invoices/{draft['id']}"
                return web.patch(url, json=change, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=len(changes)) as pool:
            statuses = list(pool.map(patch, changes * 3))
        after = httpx.get(f"{base}/api/v1/invoices/{draft['id']}", headers=headers).json()
    assert statuses == [200] * len(statuses)
    assert after["notes"] == "Thanks"
    assert after["taxName"] == "VAT"
    assert after["taxRate"] == 20
    assert after["currency"] == "EUR"
    assert after["issueDate"] == "2029-12-02T00:00:00Z"
    assert after["dueDate"] == "2030-01-31T00:00:00Z"
    assert Decimal(str(after["total"])) == Decimal("120.00")
