"""The portal's pages: sign-up, log-in, sessions, CSRF, and what each page allows."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.portal.sign_in import SIGNUPS_PER_HOUR, email_bucket
from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from tests.support import META, FakeClock

PASSWORD = "a long enough password"


@pytest.fixture
def web(services: Services, settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(settings, services=services)
    app.log_requests = False
    with TestClient(app, base_url="https://testserver.local") as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_up(web: TestClient, email: str = "me@shop.example", **extra: str) -> Any:  # type: ignore[type-arg]
    token = csrf_of(web.get("/signup").text)
    data = {"csrf": token, "email": email, "password": PASSWORD, "accountName": "My Shop", **extra}
    return web.post("/signup", data=data, follow_redirects=False)


def test_signing_up_opens_a_free_account_and_a_session(web: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    r = sign_up(web)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "experi_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "SameSite=lax" in cookie
    page = web.get("/dashboard")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<b class="badge free" id="plan">FREE</b>' in page.text
    [account] = services.queries.list_accounts()
    assert (account.plan, account.api_access, account.name) == ("FREE", "NONE", "My Shop")
    user = services.app.log_in("ME@shop.example", PASSWORD)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_second_sign_up_with_the_email_is_refused(web: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    sign_up(web)
    web.cookies.clear()
    r = sign_up(web, email="Me@Shop.example")
    assert r.status_code == 400 and "already exists" in r.text
    assert len(services.queries.list_accounts()) == 1


def test_a_short_password_or_bad_email_is_refused(web: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    assert sign_up(web, password="short").status_code == 400
    assert sign_up(web, email="not-an-email").status_code == 400
    assert services.queries.list_accounts() == []


def test_forms_without_the_csrf_token_change_nothing(web: TestClient, services: Services) -> None:  # type: ignore[type-arg]
    web.get("/signup")
    r = web.post(
        "/signup",
        data={"csrf": "forged", "email": "a@b.example", "password": PASSWORD, "accountName": "X"},
    )
    assert r.status_code == 403 and services.queries.list_accounts() == []
    sign_up(web)
    r = web.post("/dashboard/profile", data={"csrf": "forged", "businessName": "Hijacked"})
    assert r.status_code == 403
    assert "Hijacked" not in web.get("/dashboard").text
    r = web.post("/dashboard/request-api-access", data={})
    assert r.status_code == 403


def test_unknown_email_and_wrong_password_look_the_same(web: TestClient) -> None:  # type: ignore[type-arg]
    sign_up(web)
    web.cookies.clear()
    token = csrf_of(web.get("/login").text)
    wrong = web.post(
        "/login", data={"csrf": token, "email": "me@shop.example", "password": "x" * 20}
    )
    unknown = web.post(
        "/login", data={"csrf": token, "email": "who@shop.example", "password": "x" * 20}
    )
    assert wrong.status_code == unknown.status_code == 400
    message = re.compile(r'<div class="alert" role="alert">([^<]+)</div>')
    assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)  # type: ignore[union-attr]
    ok = web.post(
        "/login",
        data={"csrf": token, "email": "me@shop.example", "password": PASSWORD},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_login_attempts_are_rate_limited(web: TestClient) -> None:  # type: ignore[type-arg]
    token = csrf_of(web.get("/login").text)
    statuses = [
        web.post(
            "/login", data={"csrf": token, "email": "x@y.example", "password": "nope"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses == [400] * 10 + [429]


def test_logging_out_ends_the_session(web: TestClient) -> None:  # type: ignore[type-arg]
    sign_up(web)
    token = csrf_of(web.get("/dashboard").text)
    r = web.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = web.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_api_access_is_requested_on_pro_and_audited_with_the_user(
    web: TestClient, services: Services
) -> None:  # type: ignore[type-arg]
    sign_up(web)
    [account] = services.queries.list_accounts()
    token = csrf_of(web.get("/dashboard").text)
    r = web.post("/dashboard/request-api-access", data={"csrf": token})
    assert r.status_code == 403 and "PRO" in r.text  # a FREE account cannot ask
    services.app.set_plan(account.id, "PRO", META)
    r = web.post("/dashboard/request-api-access", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert services.app.get_account(account.id).api_access == "REQUESTED"
    [entry] = [
        e
        for e in services.queries.audit_log(account.id, AuditFilter(), 100, None).items
        if e["action"] == "account.api_access_changed"
    ]
    assert entry["actor"]["type"] == "user" and entry["actor"]["name"] == "me@shop.example"


def test_keys_need_approval_and_stay_within_the_account(
    web: TestClient, services: Services
) -> None:  # type: ignore[type-arg]
    sign_up(web)
    [account] = services.queries.list_accounts()
    token = csrf_of(web.get("/dashboard").text)
    page = web.get("/dashboard/developer")
    assert "not approved yet" in page.text and 'id="create-key"' not in page.text
    services.app.set_plan(account.id, "PRO", META)
    services.app.approve_api(account.id, META)
    r = web.post(
        "/dashboard/developer/keys",
        data={"csrf": token, "name": "CI", "scopes": ["clients:read", "audit:read"]},
    )
    assert r.status_code == 200 and r.history[0].status_code == 303  # post/redirect/get
    key = re.search(r'id="secret">(exp_live_[^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    # Reloading the page that showed the key neither shows it again nor makes another.
    again = web.get("/dashboard/developer")
    assert "exp_live_" not in again.text and 'id="secret"' not in again.text
    assert len(services.queries.keys_of(account.id)) == 1
    assert services.auth.authenticate(key, "127.0.0.1", 0.0).scopes == {
        "clients:read",
        "audit:read",
    }
    other = services.app.create_account("Other", "o@x.example", "PRO", True, META)
    theirs = services.app.create_key(other.id, "theirs", ["all"], META)
    r = web.post(f"/dashboard/developer/keys/{theirs.key.id}/revoke", data={"csrf": token})
    assert r.status_code == 404 and not services.app.get_key(theirs.key.id).is_revoked
    r = web.post(
        "/dashboard/developer/keys", data={"csrf": token, "name": "bad", "scopes": ["root"]}
    )
    assert r.status_code == 400 and "Unknown scopes" in r.text


def test_login_attempts_are_counted_across_processes(settings: Settings) -> None:
    # Two service stacks on one database stand for two server processes.
    stacks = [build_services(settings, FakeClock()) for _ in range(2)]
    apps = [create_app(settings, services=s) for s in stacks]
    for app in apps:
        app.log_requests = False
    with (
        TestClient(apps[0], base_url="https://testserver.local") as first,
        TestClient(apps[1], base_url="https://testserver.local") as second,
    ):
        tokens = [csrf_of(web.get("/login").text) for web in (first, second)]
        statuses = [
            (first, second)[i % 2]
            .post(
                "/login",
                data={"csrf": tokens[i % 2], "email": f"who{i}@y.example", "password": "nope"},
            )
            .status_code
            for i in range(11)
        ]
    assert statuses == [400] * 10 + [429]


def test_one_email_is_locked_whichever_process_is_asked(settings: Settings) -> None:
    stacks = [build_services(settings, FakeClock()) for _ in range(2)]
    try:
        now = time.time()
        hits = [
            stacks[i % 2].shared_limiter.hit(email_bucket("me@shop.example"), 10, now)
            for i in range(11)
        ]
    finally:
        for s in stacks:
            s.close()
    assert [h.allowed for h in hits] == [True] * 10 + [False]


def test_sign_ups_are_limited_per_address(web: TestClient[Any], services: Services) -> None:
    statuses = []
    for i in range(SIGNUPS_PER_HOUR + 1):
        web.cookies.clear()
        statuses.append(sign_up(web, email=f"user{i}@shop.example").status_code)
    assert statuses == [303] * SIGNUPS_PER_HOUR + [429]
    web.cookies.clear()
    refused = sign_up(web, email="late@shop.example")
    assert refused.status_code == 429 and 60 < int(refused.headers["retry-after"]) <= 3600
    assert "Too many sign-ups" in refused.text
    assert len(services.queries.list_accounts()) == SIGNUPS_PER_HOUR


def test_a_form_error_at_sign_up_does_not_use_up_the_allowance(web: TestClient[Any]) -> None:
    for _ in range(SIGNUPS_PER_HOUR + 2):
        assert sign_up(web, password="short").status_code == 400
    assert sign_up(web).status_code == 303
