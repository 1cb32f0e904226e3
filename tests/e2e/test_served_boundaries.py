"""A real server: whom it believes about the client's address, HEAD, and shared log-in limits."""

from __future__ import annotations

import re

import httpx
import pytest

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, make_key, server

SPOOFED = "198.51.100.77"


def audit_ip(base: str, headers: dict[str, str]) -> str:
    created = httpx.post(
        f"{base}/api/v1/clients",
        json={"name": "Zed"},
        headers={**headers, "X-Forwarded-For": SPOOFED},
    ).json()
    log = httpx.get(
        f"{base}/api/v1/audit-log", params={"entityId": created["id"]}, headers=headers
    ).json()
    return str(log["data"][0]["ip"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_server_believes_forwarded_addresses_only_from_trusted_proxies(
    settings: Settings,
) -> None:
    env = base_env(settings)
    headers = make_key(env)
    with server(env, workers=1) as (base, _):
        assert audit_ip(base, headers) == "127.0.0.1"  # the header from 127.0.0.1 is ignored
        statuses = [
            httpx.get(
                f"{base}/api/v1/clients",
                headers={"Authorization": "Bearer nope", "X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(31)
        ]
        assert statuses == [401] * 30 + [429]
    with server({**env, "EXPERI_TRUSTED_PROXIES": "127.0.0.1"}, workers=1) as (base, _):
        assert audit_ip(base, headers) == SPOOFED


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_head_is_answered_like_get_by_the_server(settings: Settings) -> None:
    env = base_env(settings)
    headers = make_key(env)
    with server(env, workers=1) as (base, _):
        for path in ("/api/v1/clients", "/docs", "/health/ready"):
            got = httpx.get(f"{base}{path}", headers=headers)
            head = httpx.head(f"{base}{path}", headers=headers)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-length"] == got.headers["content-length"]
            assert "server" not in head.headers


def login_attempt(base: str, i: int) -> int:
    form = httpx.get(f"{base}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    # The CSRF cookie is Secure, so it is sent by hand over plain HTTP here.
    return httpx.post(
        f"{base}/login",
        data={"csrf": token, "email": f"who{i}@example.com", "password": "wrong password"},
        headers={"Cookie": f"experi_csrf={token}"},
    ).status_code


def test_log_in_attempts_are_limited_across_server_processes(settings: Settings) -> None:
    env = base_env(settings)
    with server(env, workers=1) as (first, _), server(env, workers=1) as (second, _):
        statuses = [login_attempt((first, second)[i % 2], i) for i in range(11)]
    assert statuses == [400] * 10 + [429]
