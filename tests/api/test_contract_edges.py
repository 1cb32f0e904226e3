"""What every operation shares: error codes, unknown names refused, exact numbers, Allow."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import META, Tenant

Api = TestClient[Any]


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert (body["statusCode"], body["code"]) == (status, code), body
    assert body["requestId"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


def test_each_kind_of_refusal_has_its_code(client: Api, tenant: Tenant, services: Services) -> None:
    h = tenant.headers
    error(client.get("/api/v1/clients"), 401, "unauthorized")
    reader = services.app.create_key(tenant.account_id, "r", ["clients:read"], META)
    error(
        client.post("/api/v1/clients", json={"name": "A"}, headers={
            "Authorization": f"Bearer {reader.token}"}),
        403, "forbidden",
    )  # fmt: skip
    error(client.get("/api/v1/nowhere", headers=h), 404, "not_found")
    error(
        client.get(f"/api/v1/clients/{'0' * 8}-0000-0000-0000-{'0' * 12}", headers=h),
        404,
        "not_found",
    )
    error(client.delete("/api/v1/invoices", headers=h), 405, "method_not_allowed")
    error(client.post("/api/v1/clients", json={"nome": "x"}, headers=h), 400, "validation_failed")
    bad = client.post(
        "/api/v1/clients", content=b"{", headers={**h, "Content-Type": "application/json"}
    )
    error(bad, 400, "malformed_json")
    form = client.post(
        "/api/v1/clients", content=b"name=x", headers={**h, "Content-Type": "text/plain"}
    )
    error(form, 415, "unsupported_media_type")
    error(client.get("/api/v1/clients", params={"cursor": "abc"}, headers=h), 400, "invalid_cursor")
    inv = create_invoice(client, tenant, status="SENT")
    r = client.patch(f"/api/v1/invoices/{inv['id']}", json={"notes": "x"}, headers=h)
    error(r, 409, "invoice_not_draft")  # editing a sent invoice
    r = client.post(f"/api/v1/invoices/{inv['id']}/paid", json={"amount": 10_000}, headers=h)
    assert "amount" in error(r, 400, "rule_violated")["details"]
    key = {**h, "Idempotency-Key": "k-1"}
    client.post("/api/v1/clients", json={"name": "A"}, headers=key)
    error(
        client.post("/api/v1/clients", json={"name": "B"}, headers=key),
        422,
        "idempotency_key_reused",
    )


@pytest.mark.parametrize(
    "path",
    ["/api/v1/clients", "/api/v1/invoices", "/api/v1/invoices/outstanding", "/api/v1/audit-log",
     "/api/v1/recurring-invoices", "/api/v1/account", "/api/v1/audit-log/digest"],
)  # fmt: skip
def test_an_unknown_query_parameter_is_refused_by_name(
    client: Api, tenant: Tenant, path: str
) -> None:
    r = client.get(path, params={"limit": "5", "colour": "red"}, headers=tenant.headers)
    details = error(r, 400, "validation_failed")["details"]
    if path.endswith(("account", "digest")):
        assert set(details) == {"limit", "colour"}  # neither is a parameter there
    else:
        assert details == {"colour": ["Unknown query parameter"]}


def test_unknown_body_fields_are_named_at_every_depth(client: Api, tenant: Tenant) -> None:
    c = create_client(client, tenant)
    body = {
        "clientId": c["id"], "colour": "red",
        "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1, "sku": "A-1"}],
    }  # fmt: skip
    r = client.post("/api/v1/invoices", json=body, headers=tenant.headers)
    details = error(r, 400, "validation_failed")["details"]
    assert details == {"colour": ["Unknown field"], "lineItems.0.sku": ["Unknown field"]}


def test_numbers_are_read_exactly_and_written_as_numbers(client: Api, tenant: Tenant) -> None:
    c = create_client(client, tenant)
    raw = (
        '{"clientId": "CLIENT", "taxRate": 17.5, "lineItems": [{"description": "x",'
        ' "quantity": 0.1, "unitPrice": 0.7}, {"description": "y", "quantity": 3,'
        ' "unitPrice": 1E+2}]}'
    ).replace("CLIENT", c["id"])
    r = client.post(
        "/api/v1/invoices",
        content=raw,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    # 0.1 x 0.7 = 0.07 exactly (a float would make it 0.06999...); 3 x 100 = 300
    assert '"amount":0.07' in r.text and '"amount":300.00' in r.text
    assert '"subtotal":300.07' in r.text and '"taxAmount":52.51' in r.text
    assert '"quantity":0.1' in r.text and '"unitPrice":100' in r.text


def test_options_and_405_list_every_method_of_the_path(client: Api, tenant: Tenant) -> None:
    c = create_client(client, tenant)
    for path, methods in [
        ("/api/v1/clients", {"GET", "HEAD", "OPTIONS", "POST"}),
        (f"/api/v1/clients/{c['id']}", {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
        ("/api/v1/account", {"GET", "HEAD", "OPTIONS", "PATCH"}),
    ]:
        options = client.options(path, headers=tenant.headers)
        assert options.status_code == 204
        assert {m.strip() for m in options.headers["allow"].split(",")} == methods, path
        wrong = client.request("TRACE", path, headers=tenant.headers)
        assert {m.strip() for m in wrong.headers["allow"].split(",")} == methods, path


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there", b"caf\xe9"])
def test_a_malformed_idempotency_key_is_refused(
    client: Api, tenant: Tenant, key: str | bytes
) -> None:
    r = client.post(
        "/api/v1/clients", json={"name": "A"}, headers={**tenant.headers, "Idempotency-Key": key}
    )
    assert "Idempotency-Key" in error(r, 400, "validation_failed")["details"]
    assert client.get("/api/v1/clients", headers=tenant.headers).json()["data"] == []


def test_seller_details_are_one_line_except_the_payment_instructions(
    client: Api, tenant: Tenant
) -> None:
    for field in ("name", "businessName", "city"):
        r = client.patch("/api/v1/account", json={field: "two\nlines"}, headers=tenant.headers)
        assert field in error(r, 400, "validation_failed")["details"]
    r = client.patch(
        "/api/v1/account", json={"paymentInstructions": "Sort 00-00-00\nAccount 1234"},
        headers=tenant.headers,
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["paymentInstructions"].count("\n") == 1
