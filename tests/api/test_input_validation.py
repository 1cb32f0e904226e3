"""Bad input of every kind gets the contract's error, names the field, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.helpers import create_client, create_invoice, example_invoice
from tests.support import Tenant


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "statusCode", "code", "requestId", "details"}
    assert body["error"]["statusCode"] == response.status_code
    assert body["error"]["requestId"] == response.headers["x-request-id"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"clientId": None}, "clientId", None),
        ({"lineItems": None}, "lineItems", None),
        ({"lineItems": []}, "lineItems", None),
        (
            {"lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1}] * 501},
            "lineItems",
            None,
        ),
        (
            {"lineItems": [{"description": "x", "quantity": 0, "unitPrice": 1}]},
            "lineItems.0.quantity",
            "Must be greater than 0",
        ),
        (
            {"lineItems": [{"description": "x", "quantity": -2, "unitPrice": 1}]},
            "lineItems.0.quantity",
            None,
        ),
        (
            {"lineItems": [{"description": "x", "quantity": 1.00001, "unitPrice": 1}]},
            "lineItems.0.quantity",
            None,
        ),
        (
            {"lineItems": [{"description": "x", "quantity": "1", "unitPrice": 1}]},
            "lineItems.0.quantity",
            None,
        ),
        (
            {"lineItems": [{"description": "x", "quantity": True, "unitPrice": 1}]},
            "lineItems.0.quantity",
            None,
        ),
        (
            {"lineItems": [{"description": "x", "quantity": 1, "unitPrice": -1}]},
            "lineItems.0.unitPrice",
            None,
        ),
        (
            {"lineItems": [{"description": "", "quantity": 1, "unitPrice": 1}]},
            "lineItems.0.description",
            None,
        ),
        (
            {"lineItems": [{"description": "x" * 501, "quantity": 1, "unitPrice": 1}]},
            "lineItems.0.description",
            None,
        ),
        ({"lineItems": [{"quantity": 1, "unitPrice": 1}]}, "lineItems.0.description", None),
        ({"lineItems": ["x"]}, "lineItems.0", None),
        ({"lineItems": {"description": "x"}}, "lineItems", None),
        ({"currency": "XYZ"}, "currency", None),
        ({"currency": "gbp"}, "currency", None),
        ({"taxRate": 101}, "taxRate", None),
        ({"taxRate": -1}, "taxRate", None),
        ({"taxRate": 12.34567}, "taxRate", None),
        ({"taxName": 7}, "taxName", None),
        ({"issueDate": "10/02/2026"}, "issueDate", None),
        ({"dueDate": "2026-02-30"}, "dueDate", None),
        ({"dueDate": "2026-02-01"}, "dueDate", "Must not be before issueDate"),
        ({"status": "PAID"}, "status", None),
        ({"clientId": "not-a-uuid"}, "clientId", None),
        ({"clientId": "00000000-0000-0000-0000-000000000000"}, "clientId", None),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_invalid_invoices_are_refused_and_store_nothing(
    client: TestClient,
    tenant: Tenant,
    change: dict[str, Any],
    path: str,
    message: str | None,  # type: ignore[type-arg]
) -> None:
    c = create_client(client, tenant)
    r = client.post(
        "/api/v1/invoices", json=example_invoice(c["id"], **change), headers=tenant.headers
    )
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert path in error["details"], error
    if message:
        assert message in error["details"][path]
    assert client.get("/api/v1/invoices", headers=tenant.headers).json()["data"] == []
    assert create_invoice(client, tenant, c["id"])["invoiceNumber"] == "SI-001"


def test_every_bad_field_is_named_at_once(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    r = client.post(
        "/api/v1/invoices",
        json={
            "lineItems": [{"description": "x", "quantity": 0, "unitPrice": "a"}],
            "currency": "ZZZ",
        },
        headers=tenant.headers,
    )
    assert set(error_of(r)["details"]) == {
        "clientId", "lineItems.0.quantity", "lineItems.0.unitPrice", "currency",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"name": "A", "email": "nope"}, "email"),
        ({"name": "A", "phone": ["1"]}, "phone"),
        ({"name": "A", "nickname": "B"}, "nickname"),
    ],
)
def test_invalid_clients_are_refused(
    client: TestClient, tenant: Tenant, body: dict[str, Any], path: str
) -> None:  # type: ignore[type-arg]
    r = client.post("/api/v1/clients", json=body, headers=tenant.headers)
    assert r.status_code == 400 and path in error_of(r)["details"]
    assert client.get("/api/v1/clients", headers=tenant.headers).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": 900.01}, 400),
        ({"amount": 0}, 400),
        ({"amount": 1.005}, 400),
        ({"amount": "1"}, 400),
        ({"paymentDate": "yesterday"}, 400),
        ({"tip": 1}, 400),
    ],
)
def test_invalid_payments_are_refused(
    client: TestClient, tenant: Tenant, body: dict[str, Any], status: int
) -> None:  # type: ignore[type-arg]
    inv = create_invoice(client, tenant, status="SENT")
    r = client.post(f"/api/v1/invoices/{inv['id']}/paid", json=body, headers=tenant.headers)
    assert r.status_code == status and error_of(r)["details"]
    assert (
        client.get(f"/api/v1/invoices/{inv['id']}", headers=tenant.headers).json()["payments"] == []
    )


def test_yen_amounts_have_no_decimals(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    inv = create_invoice(
        client,
        tenant,
        currency="JPY",
        taxRate=10,
        status="SENT",
        lineItems=[{"description": "x", "quantity": 3, "unitPrice": 333.3}],
    )
    assert inv["total"] == 1100
    r = client.post(
        f"/api/v1/invoices/{inv['id']}/paid", json={"amount": 0.5}, headers=tenant.headers
    )
    assert r.status_code == 400 and "amount" in error_of(r)["details"]
    kwd = create_invoice(
        client,
        tenant,
        currency="KWD",
        taxRate=0,
        lineItems=[{"description": "x", "quantity": 1, "unitPrice": 1.25}],
    )
    raw = client.get(f"/api/v1/invoices/{kwd['id']}", headers=tenant.headers).text
    assert '"total":1.250' in raw


def test_dates_accept_both_forms_and_reduce_to_the_utc_date(
    client: TestClient, tenant: Tenant
) -> None:  # type: ignore[type-arg]
    inv = create_invoice(
        client, tenant, issueDate="2026-02-10T23:30:00-02:00", dueDate="2026-02-24"
    )
    assert inv["issueDate"] == "2026-02-11T00:00:00Z" and inv["dueDate"] == "2026-02-24T00:00:00Z"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"just a string"', "application/json", 400),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b"<client/>", "text/xml", 415),
        (b"", "application/json", 400),
    ],
)
def test_malformed_bodies(
    client: TestClient, tenant: Tenant, content: bytes, content_type: str, status: int
) -> None:  # type: ignore[type-arg]
    r = client.post(
        "/api/v1/clients", content=content, headers={**tenant.headers, "Content-Type": content_type}
    )
    assert r.status_code == status
    error_of(r)


def test_framework_errors_have_the_contract_shape(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    nowhere = client.get("/api/v1/nowhere", headers=tenant.headers)
    assert nowhere.status_code == 404 and error_of(nowhere)["message"]
    wrong = client.delete("/api/v1/invoices", headers=tenant.headers)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    error_of(wrong)
    big = client.post(
        "/api/v1/clients",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
    error_of(big)
    for limit in ("0", "101", "abc"):
        r = client.get("/api/v1/invoices", params={"limit": limit}, headers=tenant.headers)
        assert r.status_code == 400 and "limit" in error_of(r)["details"]
    r = client.get("/api/v1/clients", params={"cursor": "garbage"}, headers=tenant.headers)
    assert r.status_code == 400 and "cursor" in error_of(r)["details"]
    r = client.get(
        "/api/v1/invoices", params={"status": "LATE", "clientId": "x"}, headers=tenant.headers
    )
    assert set(error_of(r)["details"]) == {"status", "clientId"}


def test_request_ids_are_echoed_when_sane(client: TestClient, tenant: Tenant) -> None:  # type: ignore[type-arg]
    sane = client.get("/api/v1/clients", headers={**tenant.headers, "X-Request-Id": "abc-123.x:y"})
    assert sane.headers["x-request-id"] == "abc-123.x:y"
    for insane in ("a" * 300, "has spaces", 'quote"d'):
        r = client.get("/api/v1/clients", headers={**tenant.headers, "X-Request-Id": insane})
        assert r.headers["x-request-id"] != insane and len(r.headers["x-request-id"]) == 32
    assert "x-request-id" in client.get("/api/v1/nowhere").headers
