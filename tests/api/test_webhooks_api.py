"""Webhook endpoints over HTTP: the secret shown once, validation, tenancy, scopes,
deliveries and replays."""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from infrastructure.webhook_targets import TargetPolicy
from projections.audit_log import AuditFilter
from tests.integration.webhook_feed import Feed
from tests.support import Tenant, make_tenant
from tests.webhook_receiver import Receiver

BASE = "/api/v1/webhook-endpoints"
EXAMPLE = {
    "url": "https://example.com/webhooks/experi",
    "enabledEvents": ["invoice.paid", "invoice.sent"],
    "description": "Bookkeeping sync",
}
FIELDS = {"id", "url", "enabledEvents", "description", "status", "disabledReason",
          "createdAt", "updatedAt"}  # fmt: skip


def create(api: TestClient[Any], tenant: Tenant, **fields: Any) -> dict[str, Any]:
    r = api.post(BASE, json={**EXAMPLE, **fields}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def error_of(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "statusCode", "code", "requestId", "details"}
    assert error["statusCode"] == status and error["requestId"] == r.headers["x-request-id"]
    return error  # type: ignore[no-any-return]


@pytest.fixture
def receiver(services: Services) -> Iterator[Receiver]:
    """A local receiver, reachable because the operator allows http and private addresses."""
    services.app.webhook_allow_http = True
    relaxed = TargetPolicy(allow_private=True)
    services.app.webhook_addresses = relaxed
    services.webhooks.worker.sender.targets = relaxed
    with Receiver() as r:
        yield r


def test_the_secret_is_shown_once_and_never_again(
    client: TestClient[Any],
    tenant: Tenant,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    r = client.post(BASE, json=EXAMPLE, headers=tenant.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created.pop("secret")
    assert set(created) == FIELDS
    assert r.headers["location"] == f"{BASE}/{created['id']}"
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert created["status"] == "enabled" and created["disabledReason"] is None
    assert created["enabledEvents"] == EXAMPLE["enabledEvents"]
    assert create(client, tenant)["secret"] != secret  # each endpoint has its own

    one = client.get(f"{BASE}/{created['id']}", headers=tenant.headers)
    assert one.status_code == 200 and one.json() == created
    listed = client.get(BASE, headers=tenant.headers)
    patched = client.patch(
        f"{BASE}/{created['id']}", json={"description": "x"}, headers=tenant.headers
    )
    assert patched.status_code == 200 and "secret" not in patched.json()
    entries = services.queries.audit_log(tenant.account_id, AuditFilter(), 100, None).items
    made = [e for e in entries if e["action"] == "webhook_endpoint.created"]
    assert made and made[0]["data"]["url"] == EXAMPLE["url"]  # the entry is there...
    assert all("secret" not in e["data"] for e in made)  # ...without the secret
    audit = client.get("/api/v1/audit-log", params={"limit": "100"}, headers=tenant.headers)
    exposed = [one.text, listed.text, patched.text, audit.text, json.dumps(entries)]
    exposed += [capsys.readouterr().out, caplog.text]
    assert all(secret not in text for text in exposed)
    assert all(secret.removeprefix("whsec_") not in text for text in exposed)
    assert '"secret"' not in listed.text and '"secret"' not in audit.text


def test_an_endpoint_is_changed_disabled_enabled_and_deleted(
    client: TestClient[Any], tenant: Tenant
) -> None:
    e = create(client, tenant)
    path, h = f"{BASE}/{e['id']}", tenant.headers
    r = client.patch(
        path,
        json={"url": "https://hooks.example.org/in", "enabledEvents": ["*"], "description": None},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["url"], r.json()["enabledEvents"], r.json()["description"]) == (
        "https://hooks.example.org/in", ["*"], None,
    )  # fmt: skip
    r = client.patch(path, json={"status": "disabled"}, headers=h)
    assert r.json()["status"] == "disabled"
    assert r.json()["disabledReason"] == "Disabled through the API"
    r = client.patch(path, json={"status": "enabled"}, headers=h)
    assert r.json()["status"] == "enabled" and r.json()["disabledReason"] is None
    assert client.patch(path, json={}, headers=h).json() == r.json()  # nothing to change
    listed = client.get(BASE, headers=h).json()["data"]
    assert [x["id"] for x in listed] == [e["id"]]
    deleted = client.delete(path, headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    for method in ("GET", "PATCH", "DELETE"):
        r = client.request(method, path, headers=h, json={} if method == "PATCH" else None)
        assert error_of(r, 404)["code"] == "not_found"
    assert client.get(BASE, headers=h).json()["data"] == []
    audit = client.get("/api/v1/audit-log", params={"entityId": e["id"]}, headers=h).json()
    assert [x["action"] for x in audit["data"]] == [
        "webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.disabled",
        "webhook_endpoint.enabled", "webhook_endpoint.deleted",
    ]  # fmt: skip


def test_the_list_is_newest_first_and_pages_without_repeats(
    client: TestClient[Any], tenant: Tenant
) -> None:
    made = [create(client, tenant, description=f"n{n}")["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get(BASE, params=params, headers=tenant.headers).json()
        seen += [x["id"] for x in page["data"]]
        if not page["pagination"]["hasMore"]:
            break
        cursor = page["pagination"]["nextCursor"]
    assert seen == made[::-1]
    bad = client.get(BASE, params={"cursor": "nonsense"}, headers=tenant.headers)
    assert error_of(bad, 400)["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://example.com/h"}, "url"),
        ({"url": "https://user:pw@example.com/h"}, "url"),
        ({"url": "https://example.com/" + "a" * 2030}, "url"),
        ({"url": "ftp://example.com/h"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://127.0.0.1/h"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "https://10.0.0.1/h"}, "url"),
        ({"url": "https://[::1]/h"}, "url"),
        ({"url": "https://0x7f.1/h"}, "url"),
        ({"url": "https://100.64.1.1/h"}, "url"),
        ({"url": 42}, "url"),
        ({"url": "https://example.com/\u0000"}, "url"),
        ({"enabledEvents": ["invoice.paid", "invoice.exploded"]}, "enabledEvents.1"),
        ({"enabledEvents": ["*", "invoice.paid"]}, "enabledEvents"),
        ({"enabledEvents": []}, "enabledEvents"),
        ({"enabledEvents": "invoice.paid"}, "enabledEvents"),
        ({"enabledEvents": [None]}, "enabledEvents.0"),
        ({"description": "x" * 501}, "description"),
        ({"description": "nul\u0000"}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"status": "disabled"}, "status"),
    ],
)
def test_bad_endpoints_are_refused_in_the_error_shape(
    client: TestClient[Any], tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    r = client.post(BASE, json={**EXAMPLE, **body}, headers=tenant.headers)
    error = error_of(r, 400)
    assert field in error["details"], error
    assert error["code"] in ("validation_failed", "rule_violated")
    assert client.get(BASE, headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://10.1.2.3/h"},
        {"url": None},
        {"enabledEvents": ["nope"]},
        {"status": "paused"},
        {"id": str(uuid.uuid4())},
        {"secret": "whsec_x"},
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    client: TestClient[Any], tenant: Tenant, body: dict[str, Any]
) -> None:
    e = create(client, tenant)
    secret = e.pop("secret")
    r = client.patch(f"{BASE}/{e['id']}", json=body, headers=tenant.headers)
    error_of(r, 400)
    assert client.get(f"{BASE}/{e['id']}", headers=tenant.headers).json() == e
    assert secret


def test_http_and_missing_fields_are_named(client: TestClient[Any], tenant: Tenant) -> None:
    r = client.post(BASE, json={}, headers=tenant.headers)
    assert {"url", "enabledEvents"} <= set(error_of(r, 400)["details"])
    r = client.post(
        BASE, content=b"{nope", headers={**tenant.headers, "content-type": "application/json"}
    )
    assert error_of(r, 400)["code"] == "malformed_json"


def test_http_urls_are_accepted_when_the_operator_allows_them(
    client: TestClient[Any], tenant: Tenant, services: Services
) -> None:
    services.app.webhook_allow_http = True
    assert create(client, tenant, url="http://example.com/h")["url"] == "http://example.com/h"


def test_another_accounts_endpoints_are_not_found(
    client: TestClient[Any], tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = create(client, other_tenant)["id"]
    never = str(uuid.uuid4())
    for ident in (theirs, never):
        for method, path, body in (
            ("GET", f"{BASE}/{ident}", None),
            ("PATCH", f"{BASE}/{ident}", {"description": "mine"}),
            ("DELETE", f"{BASE}/{ident}", None),
            ("GET", f"{BASE}/{ident}/deliveries", None),
            ("POST", f"{BASE}/{ident}/replay", {"from": "2026-01-01T00:00:00Z"}),
        ):
            r = client.request(method, path, json=body, headers=tenant.headers)
            error = error_of(r, 404)
            assert error["code"] == "not_found" and ident not in r.text, (method, path)
    assert client.get(BASE, headers=tenant.headers).json()["data"] == []
    still = client.get(f"{BASE}/{theirs}", headers=other_tenant.headers).json()
    assert still["description"] == EXAMPLE["description"] and still["status"] == "enabled"


def test_webhooks_need_their_scopes(client: TestClient[Any], services: Services) -> None:
    reader = make_tenant(services, scopes="webhooks:read", name="Reader")
    r = client.post(BASE, json=EXAMPLE, headers=reader.headers)
    assert "webhooks:write" in error_of(r, 403)["message"]
    assert client.get(BASE, headers=reader.headers).status_code == 200
    stranger = make_tenant(services, scopes="clients:read", name="Stranger")
    assert "webhooks:read" in error_of(client.get(BASE, headers=stranger.headers), 403)["message"]
    writer = make_tenant(services, scopes="webhooks:write", name="Writer")
    assert client.post(BASE, json=EXAMPLE, headers=writer.headers).status_code == 201
    everything = make_tenant(services, scopes="all", name="All")
    key = services.auth.authenticate(everything.token, "127.0.0.1", 0.0)
    assert {"events:read", "webhooks:read", "webhooks:write"} <= key.scopes


def test_deliveries_are_listed_newest_first_with_every_field(
    client: TestClient[Any], tenant: Tenant, services: Services, receiver: Receiver
) -> None:
    e = create(client, tenant, url=receiver.url(), enabledEvents=["*"])
    receiver.secret = e["secret"]
    feed = Feed(services.db, services.app.recorder)
    events = [feed.add(tenant.account_id, "invoice.paid") for _ in range(3)]
    receiver.plan = [500]
    services.webhooks.worker.run_once()
    services.webhooks.worker.run_once(services.webhooks.worker.clock() + 60)
    assert receiver.ids() == [events[0]["id"], events[0]["id"], events[1]["id"], events[2]["id"]]
    path = f"{BASE}/{e['id']}/deliveries"
    page = client.get(path, params={"limit": "3"}, headers=tenant.headers).json()
    first = page["data"]
    assert set(first[0]) == {"id", "eventId", "eventType", "attemptedAt", "statusCode",
                             "latencyMs", "error", "responseBody", "nextAttemptAt"}  # fmt: skip
    assert [d["eventId"] for d in first] == [events[2]["id"], events[1]["id"], events[0]["id"]]
    assert all(d["statusCode"] == 200 and d["nextAttemptAt"] is None for d in first)
    assert first[0]["eventType"] == "invoice.paid" and first[0]["responseBody"] == "ok"
    assert page["pagination"]["hasMore"] is True
    rest = client.get(
        path, params={"cursor": page["pagination"]["nextCursor"]}, headers=tenant.headers
    ).json()
    [failed] = rest["data"]
    assert failed["eventId"] == events[0]["id"] and failed["statusCode"] == 500
    assert failed["nextAttemptAt"].endswith("Z") and failed["latencyMs"] >= 0
    assert rest["pagination"] == {"limit": 20, "hasMore": False, "nextCursor": None}


def test_replays_over_http(
    client: TestClient[Any],
    tenant: Tenant,
    other_tenant: Tenant,
    services: Services,
    receiver: Receiver,
) -> None:
    e = create(client, tenant, url=receiver.url(), enabledEvents=["invoice.paid"])
    receiver.secret = e["secret"]
    feed = Feed(services.db, services.app.recorder)
    events = [feed.add(tenant.account_id, "invoice.paid") for _ in range(3)]
    theirs = feed.add(other_tenant.account_id, "invoice.paid")
    services.webhooks.worker.run_once()
    path, h = f"{BASE}/{e['id']}/replay", tenant.headers
    r = client.post(path, json={"fromEventId": events[1]["id"]}, headers=h)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "endpointId": e["id"],
        "replayFrom": {"eventId": events[1]["id"], "type": "invoice.paid",
                       "createdAt": events[1]["createdAt"]},
    }  # fmt: skip
    services.webhooks.worker.run_once()
    assert receiver.ids() == [x["id"] for x in events + events[1:]]
    assert all(x.verified for x in receiver.received)

    future = client.post(path, json={"from": "2100-01-01T00:00:00Z"}, headers=h)
    assert future.status_code == 202 and future.json()["replayFrom"] is None
    for body, field in (
        ({}, "fromEventId"),
        ({"fromEventId": events[0]["id"], "from": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-01"}, "from"),
        ({"fromEventId": "evt\u0000"}, "fromEventId"),
        ({"fromEventId": "x" * 101}, "fromEventId"),
        ({"since": "2026-01-01T00:00:00Z"}, "since"),
    ):
        assert field in error_of(client.post(path, json=body, headers=h), 400)["details"], body
    for unknown in (theirs["id"], str(uuid.uuid4())):
        r = client.post(path, json={"fromEventId": unknown}, headers=h)
        assert error_of(r, 404)["code"] == "not_found"


def test_every_webhook_operation_refuses_a_bad_key(client: TestClient[Any], tenant: Tenant) -> None:
    ident = create(client, tenant)["id"]
    bad = {"Authorization": "Bearer exp_live_00000000-0000-0000-0000-000000000000_" + "0" * 48}
    for method, path, body in (
        ("POST", BASE, EXAMPLE),
        ("GET", BASE, None),
        ("GET", f"{BASE}/{ident}", None),
        ("HEAD", f"{BASE}/{ident}", None),
        ("PATCH", f"{BASE}/{ident}", {"description": "x"}),
        ("DELETE", f"{BASE}/{ident}", None),
        ("GET", f"{BASE}/{ident}/deliveries", None),
        ("POST", f"{BASE}/{ident}/replay", {"from": "2026-01-01T00:00:00Z"}),
    ):
        for headers in (bad, {}):
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"
    assert (
        client.get(f"{BASE}/{ident}", headers=tenant.headers).json()["description"]
        == (EXAMPLE["description"])
    )
    assert client.head(f"{BASE}/{ident}", headers=tenant.headers).status_code == 200
