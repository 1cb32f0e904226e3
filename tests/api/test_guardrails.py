"""Rate limits, cached authentication, idempotent POSTs, audit endpoints, access log."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from application.authentication import FAILURES_PER_MINUTE
from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import META, Tenant


def limits(services: Services, reads: int, writes: int) -> None:
    services.settings = dataclasses.replace(
        services.settings, read_rate_limit=reads, write_rate_limit=writes
    )


def test_a_burst_of_the_whole_allowance_passes_and_the_next_is_429(
    client: TestClient,
    tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    limits(services, reads=5, writes=3)
    statuses = [client.get("/api/v1/clients", headers=tenant.headers) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert [r.headers["x-ratelimit-remaining"] for r in statuses[:5]] == ["4", "3", "2", "1", "0"]
    refused = statuses[5]
    assert refused.headers["x-ratelimit-limit"] == "5"
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 60
    assert int(refused.headers["x-ratelimit-reset"]) >= int(time.time())
    assert refused.json()["error"]["statusCode"] == 429
    # Writes have their own allowance.
    created = [
        client.post("/api/v1/clients", json={"name": "x"}, headers=tenant.headers) for _ in range(4)
    ]
    assert [r.status_code for r in created] == [201, 201, 201, 429]
    # A refused write stored nothing.
    limits(services, reads=100, writes=100)
    time.sleep(0)  # the read window is still closed; use another key to look
    assert len(services.queries.list_clients(tenant.account_id, None, 100, None).items) == 3


def test_limits_are_per_key(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    limits(services, reads=2, writes=2)
    for _ in range(2):
        client.get("/api/v1/clients", headers=tenant.headers)
    assert client.get("/api/v1/clients", headers=tenant.headers).status_code == 429
    assert client.get("/api/v1/clients", headers=other_tenant.headers).status_code == 200


def test_health_endpoints_are_not_rate_limited(client: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    limits(services, reads=1, writes=1)
    for _ in range(5):
        r = client.get("/health/live")
        assert r.status_code == 200 and "x-ratelimit-limit" not in r.headers


def test_bcrypt_runs_once_per_key_not_per_request(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    before = services.auth.bcrypt_calls
    for _ in range(10):
        assert client.get("/api/v1/clients", headers=tenant.headers).status_code == 200
    assert services.auth.bcrypt_calls - before == 1


@pytest.mark.parametrize(
    "bearer",
    [
        "x" * 201,
        "exp_live_" + "é" * 30,
        "not-a-key",
        "exp_live_00000000-0000-0000-0000-000000000000_zz",
    ],
)
def test_malformed_keys_are_401_without_bcrypt(
    client: TestClient, services: Services, bearer: str
) -> None:  # type: ignore[type-arg]
    before = services.auth.bcrypt_calls
    r = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {bearer}".encode()})  # type: ignore[dict-item]
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert services.auth.bcrypt_calls == before


def test_repeating_a_wrong_secret_costs_one_bcrypt(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    wrong = tenant.token[:-4] + ("0000" if not tenant.token.endswith("0000") else "1111")
    before = services.auth.bcrypt_calls
    for _ in range(5):
        r = client.get("/api/v1/clients", headers={"Authorization": f"Bearer {wrong}"})
        assert r.status_code == 401
    assert services.auth.bcrypt_calls - before == 1


def test_a_flood_of_bad_keys_is_limited_per_address_and_spares_good_keys(
    client: TestClient,
    tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    good = services.auth
    # Verify the good key first (as a client that is already working would have).
    assert client.get("/api/v1/clients", headers=tenant.headers).status_code == 200
    statuses = []
    for i in range(FAILURES_PER_MINUTE + 5):
        bad = f"exp_live_00000000-0000-0000-0000-{i:012d}_{'a' * 48}"
        statuses.append(
            client.get("/api/v1/clients", headers={"Authorization": f"Bearer {bad}"}).status_code
        )
    assert statuses[:FAILURES_PER_MINUTE] == [401] * FAILURES_PER_MINUTE
    assert set(statuses[FAILURES_PER_MINUTE:]) == {429}
    before = good.bcrypt_calls
    # A key already verified still works; a fresh good key from another address does too.
    assert client.get("/api/v1/clients", headers=tenant.headers).status_code == 200
    assert (
        services.auth.authenticate(tenant.token, "198.51.100.7", time.time()).key_id
        == tenant.key_id
    )
    assert good.bcrypt_calls == before


def test_a_revoked_key_is_refused_within_seconds(services: Services, tenant: Tenant) -> None:
    now = time.time()
    services.auth.authenticate(tenant.token, "127.0.0.1", now)
    services.app.revoke_key(tenant.key_id, META)
    from domain.errors import Unauthenticated

    with pytest.raises(Unauthenticated):
        services.auth.authenticate(tenant.token, "127.0.0.1", now + 2.5)


def test_a_key_of_an_account_that_lost_pro_is_refused_within_seconds(
    services: Services, tenant: Tenant
) -> None:
    now = time.time()
    services.auth.authenticate(tenant.token, "127.0.0.1", now)
    services.app.set_plan(tenant.account_id, "FREE", META)
    from domain.errors import Forbidden

    with pytest.raises(Forbidden, match="PRO"):
        services.auth.authenticate(tenant.token, "127.0.0.1", now + 2.5)


def post_idem(
    client: TestClient,
    tenant: Tenant,
    key: str,
    body: dict[str, Any],
    path: str = "/api/v1/clients",
) -> Any:  # type: ignore[type-arg]
    return client.post(path, json=body, headers={**tenant.headers, "Idempotency-Key": key})


def test_an_idempotent_retry_replays_the_first_response(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    first = post_idem(client, tenant, "abc-1", {"name": "Once"})
    again = post_idem(client, tenant, "abc-1", {"name": "Once"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert len(services.queries.list_clients(tenant.account_id, None, 100, None).items) == 1


def test_the_same_key_with_another_request_is_422(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    post_idem(client, tenant, "abc-2", {"name": "Once"})
    r = post_idem(client, tenant, "abc-2", {"name": "Twice"})
    assert r.status_code == 422 and r.json()["error"]["statusCode"] == 422
    assert len(services.queries.list_clients(tenant.account_id, None, 100, None).items) == 1


def test_a_request_still_in_flight_is_409(
    client: TestClient, tenant: Tenant, services: Services
) -> None:  # type: ignore[type-arg]
    import hashlib

    body = b'{"name":"Slow"}'
    fingerprint = hashlib.sha256(b"POST /api/v1/clients?\n" + body).hexdigest()
    assert (
        services.idempotency.begin(str(tenant.key_id), "abc-3", fingerprint, time.time()).state
        == "new"
    )
    r = client.post(
        "/api/v1/clients",
        content=body,
        headers={**tenant.headers, "Idempotency-Key": "abc-3", "Content-Type": "application/json"},
    )
    assert r.status_code == 409


def test_idempotency_keys_are_scoped_to_the_api_key(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:  # type: ignore[type-arg]
    a = post_idem(client, tenant, "shared", {"name": "A"})
    b = post_idem(client, other_tenant, "shared", {"name": "A"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_a_validation_error_is_replayed_and_a_bad_idempotency_key_is_400(
    client: TestClient, tenant: Tenant
) -> None:  # type: ignore[type-arg]
    first = post_idem(client, tenant, "bad-body", {"nome": "typo"})
    again = post_idem(client, tenant, "bad-body", {"nome": "typo"})
    assert first.status_code == again.status_code == 400
    assert again.headers["idempotent-replayed"] == "true"
    r = post_idem(client, tenant, "x" * 256, {"name": "A"})
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["error"]["details"]


def test_audit_log_endpoint_and_invoice_history(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant)
    client.post(
        f"/api/v1/invoices/{inv['id']}/paid",
        json={"amount": 100},
        headers={**tenant.headers, "X-Request-Id": "pay-1", "User-Agent": "agent/2"},
    )
    history = client.get(f"/api/v1/invoices/{inv['id']}/history", headers=tenant.headers)
    assert history.status_code == 200
    entries = history.json()["data"]
    assert [e["action"] for e in entries] == [
        "invoice.created",
        "invoice.issued",
        "invoice.payment_recorded",
    ]
    paid = entries[-1]
    assert paid["requestId"] == "pay-1" and paid["userAgent"] == "agent/2"
    assert paid["actor"] == {"type": "api_key", "id": str(tenant.key_id), "name": "test key"}
    assert (
        client.get(
            f"/api/v1/invoices/{inv['id']}/history", headers=other_tenant.headers
        ).status_code
        == 404
    )
    log = client.get(
        "/api/v1/audit-log", params={"entityType": "invoice", "limit": "2"}, headers=tenant.headers
    ).json()
    assert [e["action"] for e in log["data"]] == ["invoice.created", "invoice.issued"]
    assert log["pagination"]["hasMore"] is True
    nxt = client.get(
        "/api/v1/audit-log",
        params={"entityType": "invoice", "cursor": log["pagination"]["nextCursor"]},
        headers=tenant.headers,
    ).json()
    assert [e["action"] for e in nxt["data"]] == ["invoice.payment_recorded"]
    assert (
        client.get(
            "/api/v1/audit-log", params={"from": "yesterday"}, headers=tenant.headers
        ).status_code
        == 400
    )
    others = client.get("/api/v1/audit-log", headers=other_tenant.headers).json()["data"]
    assert all(e["entityId"] != inv["id"] for e in others)


def test_the_access_log_has_a_line_per_request_and_no_secrets(
    client: TestClient,
    tenant: Tenant,
    capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    import json

    create_client(client, tenant)
    client.get("/api/v1/nowhere", headers=tenant.headers)
    wrong = tenant.token[:-1] + ("1" if tenant.token.endswith("0") else "0")
    client.get("/api/v1/clients", headers={"Authorization": f"Bearer {wrong}"})
    client.get("/api/v1/caf%C3%A9", headers=tenant.headers)
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    assert [(x["method"], x["path"], x["status"]) for x in lines[-4:]] == [
        ("POST", "/api/v1/clients", 201),
        ("GET", "/api/v1/nowhere", 404),
        ("GET", "/api/v1/clients", 401),
        ("GET", "/api/v1/café", 404),
    ]
    assert out.out.isascii()  # other characters are written as JSON escapes
    assert lines[-4]["keyId"] == str(tenant.key_id) and lines[-3]["keyId"] is None
    assert all({"time", "requestId", "durationMs"} <= set(x) for x in lines)
    secret = tenant.token.rsplit("_", 1)[1]
    assert secret[:20] not in out.out + out.err


def test_requests_are_served_when_the_limit_store_is_unreachable(
    client: TestClient,
    tenant: Tenant,
    services: Services,  # type: ignore[type-arg]
) -> None:
    from infrastructure.ratelimit import SqlRateLimiter
    from tests.integration.test_rate_limiter import BrokenDatabase

    limiter = SqlRateLimiter(services.db)
    limiter.db = BrokenDatabase()  # type: ignore[assignment]
    services.limiter = limiter
    r = client.get("/api/v1/clients", headers=tenant.headers)
    assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "999"


def test_a_revoked_key_id_costs_no_bcrypt_whatever_the_secret_and_counts_as_failures(
    client: TestClient[Any],
    tenant: Tenant,
    services: Services,
) -> None:
    services.app.revoke_key(tenant.key_id, META)
    prefix = tenant.token.rsplit("_", 1)[0]
    before = services.auth.bcrypt_calls
    statuses = [
        client.get(
            "/api/v1/clients", headers={"Authorization": f"Bearer {prefix}_{i:048x}"}
        ).status_code
        for i in range(20)
    ]
    assert statuses == [401] * 20
    assert services.auth.bcrypt_calls - before <= 1
    # Each of those was a failure from this address: 10 more are allowed, then 429.
    rest = [
        client.get("/api/v1/clients", headers={"Authorization": "Bearer nope"}).status_code
        for _ in range(FAILURES_PER_MINUTE - 20 + 1)
    ]
    assert rest == [401] * (FAILURES_PER_MINUTE - 20) + [429]


def test_a_revoked_key_that_was_in_use_is_refused_and_counted(
    services: Services, tenant: Tenant
) -> None:
    from domain.errors import Unauthenticated

    now = time.time()
    services.auth.authenticate(tenant.token, "192.0.2.1", now)
    services.app.revoke_key(tenant.key_id, META)
    with pytest.raises(Unauthenticated, match="revoked"):
        services.auth.authenticate(tenant.token, "192.0.2.1", now + 2.5)
    assert services.auth.failures.peek("192.0.2.1", now + 2.5).remaining == FAILURES_PER_MINUTE - 1


class SlowChecks:
    """The real hasher, slowed so that concurrent first requests overlap its check."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher

    def verify(self, secret: str, hashed: str) -> bool:
        time.sleep(0.05)
        return bool(self.hasher.verify(secret, hashed))


@pytest.mark.parametrize("right_secret", [True, False])
def test_concurrent_first_requests_with_one_key_cost_one_bcrypt(
    services: Services, tenant: Tenant, monkeypatch: Any, right_secret: bool
) -> None:
    """A process meeting a key for the first time in a burst (just started, say) checks
    it once; the others wait for that outcome, right or wrong."""
    import threading

    from application.authentication import Authenticator
    from domain.errors import Unauthenticated

    monkeypatch.setattr(services.app, "_hasher", SlowChecks(services.app.hasher))
    auth = Authenticator(services.app)
    bearer = tenant.token if right_secret else tenant.token[:-8] + "0" * 8
    start = threading.Barrier(8)
    outcomes: list[object] = []

    def first_request() -> None:
        start.wait()
        try:
            outcomes.append(auth.authenticate(bearer, "127.0.0.1", time.time()).key_id)
        except Unauthenticated:
            outcomes.append("401")

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == [tenant.key_id if right_secret else "401"] * 8
    assert auth.bcrypt_calls == 1
