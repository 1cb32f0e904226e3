"""Security headers on every response, HEAD wherever GET works, and slow request bodies."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest
from litestar.testing import TestClient

from api import http_edges
from infrastructure.bootstrap import Services
from tests.support import Tenant

NO_BODY_HEADERS = {"x-request-id", "date", "set-cookie", "x-ratelimit-remaining"}


def test_api_answers_are_not_cached_sniffed_or_framed(
    client: TestClient[Any], tenant: Tenant
) -> None:
    for r in (
        client.get("/api/v1/clients", headers=tenant.headers),
        client.get("/api/v1/clients"),  # 401
        client.get("/api/v1/nowhere", headers=tenant.headers),  # 404
    ):
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in r.headers


def test_pages_carry_a_content_security_policy(client: TestClient[Any]) -> None:
    docs = client.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in docs.text.replace(" ", "")  # no inline code for it to forbid
    assert client.get("/docs/assets/init.js").status_code == 200
    login = client.get("/login")
    assert "form-action 'self'" in login.headers["content-security-policy"]
    assert login.headers["x-content-type-options"] == "nosniff"


def test_hsts_is_sent_when_switched_on(client: TestClient[Any], services: Services) -> None:
    services.settings = dataclasses.replace(services.settings, hsts=True)
    r = client.get("/health/live")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/api/v1/clients", "/health/live", "/docs", "/openapi.json"])
def test_head_answers_like_get_without_a_body(
    client: TestClient[Any], tenant: Tenant, path: str
) -> None:
    got = client.get(path, headers=tenant.headers)
    head = client.head(path, headers=tenant.headers)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert {k: v for k, v in head.headers.items() if k not in NO_BODY_HEADERS} == {
        k: v for k, v in got.headers.items() if k not in NO_BODY_HEADERS
    }


def test_head_is_refused_and_limited_like_a_read(
    client: TestClient[Any], tenant: Tenant, services: Services
) -> None:
    assert client.head("/api/v1/clients").status_code == 401
    services.settings = dataclasses.replace(services.settings, read_rate_limit=2)
    statuses = [client.head("/api/v1/clients", headers=tenant.headers) for _ in range(2)]
    assert [r.status_code for r in statuses] == [200, 200]
    assert client.get("/api/v1/clients", headers=tenant.headers).status_code == 429
    assert statuses[1].headers["x-ratelimit-remaining"] == "0"


def test_a_wrong_method_names_head_among_the_allowed(
    client: TestClient[Any], tenant: Tenant
) -> None:
    r = client.delete("/api/v1/clients", headers=tenant.headers)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "HEAD", "POST"}


def test_a_body_slower_than_the_deadline_is_a_408(
    client: TestClient[Any], tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_edges, "BODY_SECONDS", 0.3)
    app = client.app
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": b'{"name":', "more_body": True}]

    async def receive() -> dict[str, Any]:
        if chunks:
            return chunks.pop()
        await anyio.sleep(10)  # the rest of the body never comes
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/clients",
        "raw_path": b"/api/v1/clients",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", tenant.headers["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("192.0.2.1", 5000),
        "server": ("testserver", 80),
    }

    async def main() -> None:
        with anyio.fail_after(5):
            await app(scope, receive, send)  # type: ignore[arg-type]

    anyio.run(main)
    assert sent[0]["status"] == 408
    assert b"did not arrive in time" in b"".join(m.get("body", b"") for m in sent[1:])
