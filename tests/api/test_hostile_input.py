"""Hostile input is a 400 in the contract's error shape that names the field and changes nothing."""

from __future__ import annotations

import base64
import json
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice, example_invoice
from tests.support import Tenant

Api = TestClient[Litestar]
LISTS = {
    "/api/v1/clients": "clients",
    "/api/v1/invoices": "invoices",
    "/api/v1/recurring-invoices": "recurring",
    "/api/v1/audit-log": "audit",
}


def refused(response: Any, field: str, sent: Any = None, status: int = 400) -> dict[str, Any]:
    """The response is the contract's error for `status`, naming `field` in its details."""
    assert response.status_code == status, (sent, response.text)
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"message", "statusCode", "details"} <= set(error)
    assert error["statusCode"] == status and isinstance(error["details"], dict)
    assert field in error["details"], (sent, error)
    return error  # type: ignore[no-any-return]


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_of(*key: Any) -> str:
    return encoded(json.dumps(list(key), separators=(",", ":")).encode())


def with_literal(body: dict[str, Any], field: str, literal: str) -> bytes:
    """The body as JSON with `field` set to a number literal Python cannot write (1e400)."""
    return json.dumps({**body, field: "@literal@"}).replace('"@literal@"', literal).encode()


def post_raw(api: Api, tenant: Tenant, path: str, body: bytes) -> Any:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    return api.post(path, content=body, headers=headers)


def listed(api: Api, tenant: Tenant, path: str) -> list[Any]:
    return api.get(f"/api/v1/{path}", headers=tenant.headers).json()["data"]  # type: ignore[no-any-return]


def today(services: Services) -> date:
    return services.app.clock.now().date()


def test_a_cursor_outside_the_stored_range_is_refused(client: Api, tenant: Tenant) -> None:
    for path, kind in LISTS.items():
        for seq in (2**63, 2**64, -(2**63) - 1, 10**30, -1, 1.5, True, None, "1"):
            r = client.get(path, params={"cursor": cursor_of(kind, seq)}, headers=tenant.headers)
            refused(r, "cursor", (path, seq))
    for key in (("\x00", 1), ("x" * 1000, 1), ("2026-02-10", 2**63), (1, 1), ("2026-02-10", "1")):
        params = {"cursor": cursor_of("outstanding", *key)}
        r = client.get("/api/v1/invoices/outstanding", params=params, headers=tenant.headers)
        refused(r, "cursor", key)


def test_any_garbage_cursor_is_refused(client: Api, tenant: Tenant) -> None:
    create_client(client, tenant)
    for cursor in [
        "garbage", "é", "%%%", "a", "====", "\x00", "x" * 20_000,
        encoded(b"\xff\xfe\xfd"), encoded(b"not json"), encoded(b"[" * 5000),
        encoded(b'["clients",1' + b"0" * 5000 + b"]"), encoded(b'{"clients":1}'),
        encoded(b'["clients",NaN]'), encoded(b'["clients",Infinity]'),
        cursor_of("invoices", 1), cursor_of("clients"), cursor_of("clients", 1, 2),
    ]:  # fmt: skip
        r = client.get("/api/v1/clients", params={"cursor": cursor}, headers=tenant.headers)
        refused(r, "cursor", cursor[:50])


def test_a_body_that_is_not_utf8_is_refused(client: Api, tenant: Tenant) -> None:
    for body in (b'{"name": "\xff"}', b'{"name": "caf\xe9"}', b'{"name": "\xed\xa0\x80"}'):
        refused(post_raw(client, tenant, "/api/v1/clients", body), "body", body)
    assert listed(client, tenant, "clients") == []


def test_deeply_nested_json_is_refused(client: Api, tenant: Tenant) -> None:
    for depth in (1000, 5000, 100_000):
        for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
            nested = opener * depth + b"1" + closer * depth
            refused(post_raw(client, tenant, "/api/v1/clients", nested), "body", depth)
            inside = b'{"name": "A", "notes": ' + nested + b"}"
            refused(post_raw(client, tenant, "/api/v1/clients", inside), "body", depth)
    assert listed(client, tenant, "clients") == []


def test_a_huge_or_nul_search_is_refused(client: Api, tenant: Tenant) -> None:
    create_client(client, tenant)
    for search in ("x" * 50_000, "x" * 201, "a\x00b", "\x00", "a\x1fb"):
        r = client.get("/api/v1/clients", params={"search": search}, headers=tenant.headers)
        refused(r, "search", search[:20])
    r = client.get("/api/v1/clients", params={"search": "y" * 200}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"] == []
    r = client.get("/api/v1/clients", params={"search": " john "}, headers=tenant.headers)
    assert len(r.json()["data"]) == 1


def test_a_nul_in_an_audit_filter_is_refused(client: Api, tenant: Tenant) -> None:
    for name in ("entityType", "entityId", "action", "actorId"):
        r = client.get("/api/v1/audit-log", params={name: "a\x00"}, headers=tenant.headers)
        refused(r, name)
    for name in ("from", "to"):
        r = client.get(
            "/api/v1/audit-log", params={name: "9999-12-31T23:00:00-02:00"}, headers=tenant.headers
        )
        refused(r, name)


def test_a_nul_in_any_client_or_account_field_is_refused(client: Api, tenant: Tenant) -> None:
    for field in ("name", "company", "email", "phone", "addressLine1", "city", "notes"):
        body = {"name": "A", field: "bad\x00value"}
        refused(client.post("/api/v1/clients", json=body, headers=tenant.headers), field)
    assert listed(client, tenant, "clients") == []
    before = client.get("/api/v1/account", headers=tenant.headers).json()
    for field in ("name", "businessName", "paymentInstructions", "email", "invoicePrefix"):
        r = client.patch("/api/v1/account", json={field: "x\x00y"}, headers=tenant.headers)
        refused(r, field)
    assert client.get("/api/v1/account", headers=tenant.headers).json() == before


def test_a_nul_in_any_invoice_field_is_refused(client: Api, tenant: Tenant) -> None:
    inv = create_invoice(client, tenant)
    url = f"/api/v1/invoices/{inv['id']}"
    line = {"description": "a\x00", "quantity": 1, "unitPrice": 1}
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("notes", {"notes": "n\x00"}),
        ("taxName", {"taxName": "V\x00T"}),
        ("lineItems.0.description", {"lineItems": [line]}),
    ]
    for field, body in bodies:
        sent = example_invoice(inv["clientId"], **body)
        refused(client.post("/api/v1/invoices", json=sent, headers=tenant.headers), field)
        refused(client.patch(url, json=body, headers=tenant.headers), field)
    for action, field, text in [
        ("paid", "paymentMethod", "Bank\x00"), ("paid", "reference", "\x00TXN"),
        ("send", "subject", "Hi\x00"), ("send", "body", "Hello\x00there"),
        ("send", "toEmail", "a\x00@example.com"),
    ]:  # fmt: skip
        r = client.post(f"{url}/{action}", json={field: text}, headers=tenant.headers)
        refused(r, field)
    assert client.get(url, headers=tenant.headers).json() == inv
    assert len(listed(client, tenant, "invoices")) == 1


def test_dates_outside_2000_to_2100_are_refused(client: Api, tenant: Tenant) -> None:
    inv = create_invoice(client, tenant, status="SENT")
    url = f"/api/v1/invoices/{inv['id']}"
    for text in (
        "9999-12-31", "9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00",
        "0001-01-01", "1999-12-31", "2101-01-01",
    ):  # fmt: skip
        for field in ("issueDate", "dueDate"):
            sent = example_invoice(inv["clientId"], **{field: text})
            r = client.post("/api/v1/invoices", json=sent, headers=tenant.headers)
            refused(r, field, text)
        r = client.post(f"{url}/paid", json={"paymentDate": text}, headers=tenant.headers)
        refused(r, "paymentDate", text)
        for name in ("issueDateFrom", "dueDateTo"):
            if "T" in text:  # a filter takes any calendar date, but must not overflow
                r = client.get("/api/v1/invoices", params={name: text}, headers=tenant.headers)
                refused(r, name, text)
    assert client.get(url, headers=tenant.headers).json() == inv
    assert len(listed(client, tenant, "invoices")) == 1
    early = create_invoice(client, tenant, issueDate="2000-01-01", dueDate="2000-01-01")
    late = create_invoice(client, tenant, issueDate="2100-12-31", dueDate="2100-12-31")
    assert (early["issueDate"], late["dueDate"]) == ("2000-01-01T00:00:00Z", "2100-12-31T00:00:00Z")


def template(client_id: str, start: date, **overrides: Any) -> dict[str, Any]:
    line = {"description": "Retainer", "quantity": 1, "unitPrice": 500}
    body = {"clientId": client_id, "frequency": "MONTHLY", "startDate": start.isoformat()}
    return {**body, "lineItems": [line], **overrides}


def test_a_hostile_template_is_refused(client: Api, tenant: Tenant, services: Services) -> None:
    c = create_client(client, tenant)
    start = today(services)
    cases: list[tuple[str, Any]] = [
        ("interval", None), ("interval", "@1e400"), ("interval", "@1e-999999999"),
        ("taxRate", "@1e400"), ("taxRate", "@-1e999999999"), ("paymentTermsDays", None),
        ("maxOccurrences", 10**30), ("startDate", "9999-12-31"), ("startDate", "0001-01-01"),
        ("endDate", "9999-12-31"),
    ]  # fmt: skip
    for field, value in cases:
        body = template(c["id"], start, **{field: value})
        if isinstance(value, str) and value.startswith("@"):
            raw = with_literal(body, field, value[1:])
            refused(post_raw(client, tenant, "/api/v1/recurring-invoices", raw), field, value)
        else:
            r = client.post("/api/v1/recurring-invoices", json=body, headers=tenant.headers)
            refused(r, field, value)
    assert listed(client, tenant, "recurring-invoices") == []
    r = client.post(
        "/api/v1/recurring-invoices", json=template(c["id"], start), headers=tenant.headers
    )
    assert r.status_code == 201 and r.json()["interval"] == 1, r.text  # absent: the default


def test_a_template_starts_within_the_last_year_and_the_next_ten(
    client: Api, tenant: Tenant, services: Services
) -> None:
    c = create_client(client, tenant)
    now = today(services)
    leap_day = (now.month, now.day) == (2, 29)  # ten years on has no 29 February
    in_ten_years = now.replace(year=now.year + 10, day=28 if leap_day else now.day)
    for start in (now - timedelta(days=367), in_ten_years + timedelta(days=1)):
        r = client.post(
            "/api/v1/recurring-invoices", json=template(c["id"], start), headers=tenant.headers
        )
        refused(r, "startDate", start)
    for start in (now - timedelta(days=366), now, in_ten_years):
        r = client.post(
            "/api/v1/recurring-invoices", json=template(c["id"], start), headers=tenant.headers
        )
        assert r.status_code == 201, (start, r.text)
    url = f"/api/v1/recurring-invoices/{r.json()['id']}"
    created = client.get(url, headers=tenant.headers).json()
    for change in ({"startDate": "9999-12-31"}, {"interval": None}, {"startDate": "2000-01-01"}):
        refused(client.patch(url, json=change, headers=tenant.headers), next(iter(change)))
    assert client.get(url, headers=tenant.headers).json() == created


def test_a_hostile_amount_is_refused_and_records_nothing(client: Api, tenant: Tenant) -> None:
    inv = create_invoice(client, tenant)  # a DRAFT, which a payment would issue
    url = f"/api/v1/invoices/{inv['id']}/paid"
    for amount in (
        "1e400", "-1e400", "1e-400", "1e999999999", "-1e999999999", "1e-999999999",
        "1E+2147483648", "0.000000000000000000000000000000000001", "1e99999999999999999999",
        "9" * 40, "1e12", "0.001", "0.005", "0.0049", "0e-999999999", "-0",
    ):  # fmt: skip
        refused(post_raw(client, tenant, url, with_literal({}, "amount", amount)), "amount", amount)
    too_long = b'{"amount": 1' + b"0" * 5000 + b"}"  # more digits than any reader accepts
    refused(post_raw(client, tenant, url, too_long), "body")
    after = client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()
    assert after == inv and after["status"] == "DRAFT" and after["payments"] == []
    r = post_raw(client, tenant, url, b'{"amount": 9.0000E+2}')
    assert r.status_code == 200 and r.json()["status"] == "PAID", r.text


def test_a_hostile_quantity_price_or_rate_is_refused(client: Api, tenant: Tenant) -> None:
    c = create_client(client, tenant)
    line = '{"description": "x", "quantity": %s, "unitPrice": %s}'
    for number in (
        "1e400",
        "-1e400",
        "1e-400",
        "1e999999999",
        "1e-999999999",
        "1e99999999999999999999",
    ):
        for field, text in (("quantity", line % (number, 1)), ("unitPrice", line % (1, number))):
            body = example_invoice(c["id"], lineItems=[{}])
            raw = json.dumps(body).replace("{}", text).encode()
            refused(
                post_raw(client, tenant, "/api/v1/invoices", raw), f"lineItems.0.{field}", number
            )
        raw = with_literal(example_invoice(c["id"]), "taxRate", number)
        refused(post_raw(client, tenant, "/api/v1/invoices", raw), "taxRate", number)
    assert listed(client, tenant, "invoices") == []


def test_an_unexpected_failure_is_a_500_in_the_error_shape(
    client: Api,
    tenant: Tenant,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(services.queries.clients, "page", explode)
    with caplog.at_level(logging.ERROR, logger="experi.errors"):
        r = client.get("/api/v1/clients", headers={**tenant.headers, "X-Request-Id": "req-42"})
    error = refused(r, "requestId", status=500)
    assert error["message"] == "Internal server error" and error["details"]["requestId"] == "req-42"
    assert "injected failure" not in r.text and "Traceback" not in r.text
    assert r.headers["x-request-id"] == "req-42"
    logged = [rec for rec in caplog.records if rec.exc_info]
    assert logged and "injected failure" in str(logged[-1].exc_info[1])  # type: ignore[index]
    monkeypatch.setattr(services.auth, "cached", explode)  # before any handler runs
    r = client.post("/api/v1/clients", json={"name": "A"}, headers=tenant.headers)
    error = refused(r, "requestId", status=500)
    assert error["details"]["requestId"] == r.headers["x-request-id"]
