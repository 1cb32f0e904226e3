"""X-Forwarded-For is believed only from trusted proxies: for audit entries and limits."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from api.access_log import AccessLoggedLitestar
from api.client_address import resolve, trusted_networks
from application.authentication import FAILURES_PER_MINUTE
from infrastructure.bootstrap import Services
from projections.audit_log import AuditFilter
from tests.support import Tenant

PEER = "203.0.113.9"  # the TCP peer of every request in these tests
SPOOFED = "198.51.100.77"


@pytest.fixture(autouse=True)
def peer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests arrive from PEER (the test client's own peer is not an address)."""
    original = AccessLoggedLitestar.__call__

    async def from_peer(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["client"] = (PEER, 50000)
        await original(self, scope, receive, send)

    monkeypatch.setattr(AccessLoggedLitestar, "__call__", from_peer)


def trust(services: Services, *proxies: str) -> None:
    services.settings = dataclasses.replace(services.settings, trusted_proxies=proxies)


def audit_ip(client: TestClient[Any], tenant: Tenant, forwarded: str) -> str:
    created = client.post(
        "/api/v1/clients",
        json={"name": "Zed"},
        headers={**tenant.headers, "X-Forwarded-For": forwarded},
    ).json()
    log = client.get(
        "/api/v1/audit-log", params={"entityId": created["id"]}, headers=tenant.headers
    ).json()
    return str(log["data"][0]["ip"])


def failing(client: TestClient[Any], forwarded: Callable[[int], str], n: int) -> list[int]:
    return [
        client.get(
            "/api/v1/clients",
            headers={"Authorization": "Bearer nope", "X-Forwarded-For": forwarded(i)},
        ).status_code
        for i in range(n)
    ]


def test_a_spoofed_header_from_an_untrusted_peer_changes_nothing(
    client: TestClient[Any],
    tenant: Tenant,
) -> None:
    assert audit_ip(client, tenant, SPOOFED) == PEER
    # A new made-up address on every attempt still counts against the peer's one limit.
    statuses = failing(client, lambda i: f"10.9.{i // 250}.{i % 250}", FAILURES_PER_MINUTE + 1)
    assert statuses == [401] * FAILURES_PER_MINUTE + [429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_used(
    client: TestClient[Any], tenant: Tenant, services: Services
) -> None:
    trust(services, "203.0.113.0/24")
    # The client wrote the left entry; the proxy appended what it saw.
    assert audit_ip(client, tenant, f"1.1.1.1, {SPOOFED}") == SPOOFED
    statuses = failing(client, lambda i: f"10.9.{i // 250}.{i % 250}", FAILURES_PER_MINUTE + 5)
    assert statuses == [401] * (FAILURES_PER_MINUTE + 5)  # each client has its own limit
    # What the client writes left of the proxy's entry does not give it a new limit.
    statuses = failing(client, lambda i: f"8.8.{i}.8, {SPOOFED}", FAILURES_PER_MINUTE + 1)
    assert statuses == [401] * FAILURES_PER_MINUTE + [429]


def test_portal_log_in_limits_count_the_peer_not_the_header(
    services: Services, settings: Any
) -> None:
    from api.app import create_app

    app = create_app(settings, services=services)
    app.log_requests = False
    with TestClient(app, base_url="https://testserver.local") as web:
        token = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)  # type: ignore[union-attr]
        statuses = [
            web.post(
                "/login",
                data={"csrf": token, "email": f"u{i}@y.example", "password": "nope"},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(11)
        ]
    assert statuses == [400] * 10 + [429]


def test_portal_sign_up_records_the_forwarded_client_behind_a_trusted_proxy(
    services: Services, settings: Any
) -> None:
    from api.app import create_app

    trust(services, PEER)
    app = create_app(settings, services=services)
    app.log_requests = False
    with TestClient(app, base_url="https://testserver.local") as web:
        token = re.search(r'name="csrf" value="([^"]+)"', web.get("/signup").text).group(1)  # type: ignore[union-attr]
        data = {"csrf": token, "email": "a@b.example", "password": "p" * 12, "accountName": "A"}
        web.post("/signup", data=data, headers={"X-Forwarded-For": SPOOFED})
        [account] = services.queries.list_accounts()
        entries = services.queries.audit_log(account.id, AuditFilter(), 10, None).items
    assert entries and {e["ip"] for e in entries} == {SPOOFED}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", ["1.2.3.4"], (), "203.0.113.9"),
        ("203.0.113.9", ["1.2.3.4"], ("10.0.0.0/8",), "203.0.113.9"),
        ("10.0.0.2", ["1.2.3.4"], ("10.0.0.0/8",), "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.7"], ("10.0.0.0/8",), "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4"], ("10.0.0.0/8",), "1.2.3.4"),
        ("10.0.0.2", ["10.0.0.5, 10.0.0.7"], ("10.0.0.0/8",), "10.0.0.5"),
        ("10.0.0.2", ["1.2.3.4:5678"], ("10.0.0.2",), "1.2.3.4"),
        ("10.0.0.2", ["[2001:db8::1]:443"], ("10.0.0.2",), "2001:db8::1"),
        ("10.0.0.2", ["1.2.3.4, garbage"], ("10.0.0.2",), "10.0.0.2"),
        ("10.0.0.2", [], ("10.0.0.2",), "10.0.0.2"),
        ("::ffff:10.0.0.2", ["1.2.3.4"], ("10.0.0.0/8",), "1.2.3.4"),
        (None, ["1.2.3.4"], ("10.0.0.0/8",), "unknown"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(
    peer: str | None, forwarded: list[str], trusted: tuple[str, ...], expected: str
) -> None:
    assert resolve(peer, forwarded, trusted_networks(trusted)) == expected


def test_a_malformed_trusted_proxy_setting_fails_at_start(services: Services) -> None:
    from api.app import create_app

    with pytest.raises(ValueError):
        create_app(
            dataclasses.replace(services.settings, trusted_proxies=("nonsense",)),
            services=services,
        )
