"""The developer journey in a real browser (headless Chromium), end to end.

Sign up, see FREE, an operator moves the account to PRO, request API access, the
operator approves, create a key, use it, revoke it, and see the API refuse it; and
the API reference at /docs renders with every request off this machine blocked.
Screenshots go to EXPERI_SCREENSHOTS (a temporary folder by default).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.services import build_services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from tests.e2e.test_server import base_env, run_cli, server
from tests.support import FakeClock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("EXPERI_REQUIRE_BROWSER") == "1"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is required (EXPERI_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EXPERI_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def local_only(page: object, base: str, blocked: list[str]) -> None:
    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if url.startswith(base):
            r.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)  # type: ignore[attr-defined]


def test_the_developer_journey(settings: Settings, browser: object, shots: Path) -> None:
    env = {**base_env(settings), "EXPERI_OPERATOR_CONTACT": "billing@brightops.example"}
    with server(env, workers=2) as (base, _):
        page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
        blocked: list[str] = []
        local_only(page, base, blocked)

        page.goto(f"{base}/signup")
        page.fill("#accountName", "Bright Pixel Studio")
        page.fill("#email", "owner@brightpixel.example")
        page.fill("#password", "a long enough password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/dashboard")
        assert page.text_content("#plan") == "FREE"
        assert page.text_content("#operator-contact") == "billing@brightops.example"
        page.screenshot(path=str(shots / "1-dashboard-free.png"), full_page=True)
        account_id = page.text_content("p.lead code")
        assert account_id

        run_cli(env, "accounts", "set-plan", account_id, "pro")
        page.reload()
        assert page.text_content("#plan") == "PRO"
        page.click("#request-access")
        page.wait_for_selector("text=API access requested")
        assert page.text_content("#api-access") == "REQUESTED"
        page.goto(f"{base}/dashboard/developer")
        assert "not approved yet" in page.content()

        run_cli(env, "accounts", "approve-api", account_id)
        page.goto(f"{base}/dashboard")
        assert page.text_content("#api-access") == "APPROVED"
        page.fill("#businessName", "Bright Pixel Studio Ltd")
        page.fill("#taxNumber", "GB123456789")
        page.click("text=Save profile")
        page.wait_for_selector("text=Profile saved")
        page.screenshot(path=str(shots / "2-dashboard-approved.png"), full_page=True)

        page.goto(f"{base}/dashboard/developer")
        page.fill("#name", "Production server")
        page.check("input[value='clients:write']")
        page.click("#create-key")
        key = (page.text_content("#secret") or "").strip()
        assert key.startswith("exp_live_")
        assert f'curl -H "Authorization: Bearer {key}"' in (page.text_content("#new-key") or "")
        page.screenshot(path=str(shots / "3-key-created.png"), full_page=True)
        page.reload()  # post/redirect/get: no second key, and the secret is gone
        assert page.locator("#secret").count() == 0
        assert page.locator("text=Production server").count() == 1

        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(f"{base}/api/v1/clients", json={"name": "Zed"}, headers=headers)
        assert created.status_code == 201
        refused = httpx.post(f"{base}/api/v1/invoices", json={}, headers=headers)
        assert refused.status_code == 403 and "invoices:write" in refused.text  # not granted
        account = httpx.get(f"{base}/api/v1/account", headers=headers).json()
        assert account["businessName"] == "Bright Pixel Studio Ltd"

        page.goto(f"{base}/dashboard/developer")
        row = page.locator("#keys tr[data-key]")
        assert row.count() == 1 and "Production server" in (row.text_content() or "")
        assert "never" not in (row.locator("td").nth(4).text_content() or "")  # last used
        page.click("#keys button:has-text('Revoke')")
        page.wait_for_selector("text=Key revoked")
        assert page.locator("#keys .badge.revoked").count() == 1
        page.screenshot(path=str(shots / "4-key-revoked.png"), full_page=True)

        deadline = time.monotonic() + 5
        while httpx.get(f"{base}/api/v1/clients", headers=headers).status_code != 401:
            assert time.monotonic() < deadline, "the revoked key still works after 5 s"
            time.sleep(0.2)
        assert blocked == []

    s = build_services(settings, FakeClock())
    try:
        from uuid import UUID

        entries = s.queries.audit_log(
            UUID(account_id), AuditFilter(entity_type="api_key"), 10, None
        )
        assert [(e["action"], e["actor"]["type"], e["actor"]["name"]) for e in entries.items] == [
            ("api_key.created", "user", "owner@brightpixel.example"),
            ("api_key.revoked", "user", "owner@brightpixel.example"),
        ]
    finally:
        s.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_api_reference_renders_with_the_network_blocked(
    settings: Settings, browser: object, shots: Path
) -> None:
    with server(base_env(settings), workers=1) as (base, _):
        page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
        blocked: list[str] = []
        local_only(page, base, blocked)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_text_contents()
        assert "/api/v1/invoices/{invoice_id}/send" in [p.replace("\u200b", "") for p in paths]
        assert page.locator(".opblock").count() >= 25
        page.screenshot(path=str(shots / "5-docs-offline.png"))
        assert blocked == []  # every asset came from the app itself
