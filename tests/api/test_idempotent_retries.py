"""A payment that committed but whose response failed: the retry answers, never pays twice."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_invoice
from tests.support import Tenant


def failing_after_commit(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """record_payment commits, then the request fails once (as a crash after the commit)."""
    real = services.app.record_payment
    failures: list[int] = []

    def record_then_fail(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not failures:
            failures.append(1)
            raise RuntimeError("the response was lost after the commit")
        return result

    monkeypatch.setattr(services.app, "record_payment", record_then_fail)
    return failures


def test_a_retry_after_a_500_returns_the_committed_payment_once(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = create_invoice(client, tenant, status="SENT")
    failures = failing_after_commit(services, monkeypatch)
    path = f"/api/v1/invoices/{invoice['id']}/paid"
    headers = {**tenant.headers, "Idempotency-Key": "pay-once"}
    first = client.post(path, json={"amount": 100}, headers=headers)
    assert first.status_code == 500 and failures == [1]
    # Another body with the same key is still another request.
    other = client.post(path, json={"amount": 200}, headers=headers)
    assert other.status_code == 422
    retry = client.post(path, json={"amount": 100}, headers=headers)
    assert retry.status_code == 200, retry.text
    assert [p["amount"] for p in retry.json()["payments"]] == [100.00]
    replay = client.post(path, json={"amount": 100}, headers=headers)
    assert replay.headers.get("idempotent-replayed") == "true"
    stored = client.get(f"/api/v1/invoices/{invoice['id']}", headers=tenant.headers).json()
    assert len(stored["payments"]) == 1 and stored["amountPaid"] == 100.00
