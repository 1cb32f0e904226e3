"""The OpenAPI document is generated from the code and says what the contract says."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from openapi_spec_validator import validate

EXPECTED = {
    "/api/v1/clients": {"get", "post"},
    "/api/v1/clients/{client_id}": {"get", "put", "patch", "delete"},
    "/api/v1/invoices": {"get", "post"},
    "/api/v1/invoices/{invoice_id}": {"get", "put", "patch"},
    "/api/v1/invoices/outstanding": {"get"},
    "/api/v1/invoices/{invoice_id}/paid": {"post"},
    "/api/v1/invoices/{invoice_id}/void": {"post"},
    "/api/v1/invoices/{invoice_id}/history": {"get"},
    "/api/v1/audit-log": {"get"},
    "/api/v1/audit-log/digest": {"get"},
    "/api/v1/invoices/{invoice_id}/send": {"post"},
    "/api/v1/invoices/{invoice_id}/pdf": {"get"},
    "/api/v1/account": {"get", "patch"},
    "/api/v1/recurring-invoices": {"get", "post"},
    "/api/v1/recurring-invoices/{template_id}": {"get", "put", "patch"},
    "/api/v1/recurring-invoices/{template_id}/pause": {"post"},
    "/api/v1/recurring-invoices/{template_id}/resume": {"post"},
    "/api/v1/recurring-invoices/{template_id}/end": {"post"},
    "/api/v1/webhook-endpoints": {"get", "post"},
    "/api/v1/webhook-endpoints/{endpoint_id}": {"get", "patch", "delete"},
    "/api/v1/webhook-endpoints/{endpoint_id}/deliveries": {"get"},
    "/api/v1/webhook-endpoints/{endpoint_id}/replay": {"post"},
    "/api/v1/events": {"get"},
    "/health/live": {"get"},
    "/health/ready": {"get"},
}
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def document(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in item.items()
    ]


def test_the_document_is_valid_openapi_with_every_contract_path(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert {p: set(ops) for p, ops in document["paths"].items()} == EXPECTED


def test_bodies_are_closed_and_carry_the_contract_examples(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    create = schemas["InvoiceCreate"]
    assert set(create["required"]) == {"clientId", "lineItems"}
    assert create["examples"][0]["lineItems"] == [
        {"description": "Web Development", "quantity": 10, "unitPrice": 75.0}
    ]
    assert schemas["ClientCreate"]["examples"][0]["name"] == "John Doe"
    for name in ("ClientCreate", "InvoiceCreate", "LineItemIn", "PaymentCreate", "AccountUpdate"):
        assert schemas[name]["additionalProperties"] is False, name
    lines = create["properties"]["lineItems"]
    assert (lines["minItems"], lines["maxItems"]) == (1, 500)
    name = schemas["ClientCreate"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 200)
    paid = document["paths"]["/api/v1/invoices/{invoice_id}/paid"]["post"]["requestBody"]
    assert paid["required"] is False


def test_money_is_a_number_and_ids_times_and_emails_have_formats(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    line = schemas["LineItemIn"]["properties"]
    assert line["quantity"] == {
        "type": "number", "multipleOf": 0.0001, "maximum": 1000000.0, "exclusiveMinimum": 0.0,
    }  # fmt: skip
    assert line["unitPrice"]["type"] == "number" and line["unitPrice"]["minimum"] == 0
    invoice = schemas["InvoiceOut"]["properties"]
    for money in ("subtotal", "taxAmount", "total", "amountPaid", "amountDue", "taxRate"):
        assert invoice[money]["type"] == "number", money
    assert invoice["id"] == {"type": "string", "format": "uuid"}
    assert invoice["createdAt"] == {"type": "string", "format": "date-time"}
    assert invoice["status"]["enum"] == ["DRAFT", "SENT", "PARTIALLY_PAID", "PAID", "VOID"]
    assert "GBP" in schemas["Currency"]["enum"]
    email = schemas["ClientCreate"]["properties"]["email"]["oneOf"][0]
    assert email["format"] == "email"
    pdf = document["paths"]["/api/v1/invoices/{invoice_id}/pdf"]["get"]["responses"]["200"]
    assert pdf["content"]["application/pdf"]["schema"]["format"] == "binary"


def test_query_parameters_are_declared(document: dict[str, Any]) -> None:
    listing = document["paths"]["/api/v1/invoices"]["get"]["parameters"]
    named = {p["name"]: p for p in listing if p["in"] == "query"}
    assert set(named) == {
        "limit", "cursor", "status", "clientId",
        "issueDateFrom", "issueDateTo", "dueDateFrom", "dueDateTo",
    }  # fmt: skip
    limit = named["limit"]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"], limit["default"]) == (
        "integer", 1, 100, 20,
    )  # fmt: skip
    clients = document["paths"]["/api/v1/clients"]["get"]["parameters"]
    assert {p["name"] for p in clients} >= {"search", "includeArchived", "limit", "cursor"}


def test_every_operation_declares_its_scope_errors_and_headers(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        [requirement] = operation["security"]
        [scope] = requirement["BearerAuth"]
        assert f"Requires scope `{scope}`." in operation["description"], (path, method)
        for code in ("400", "401", "403", "429", "500"):
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)
        if "{" in path:
            assert "404" in operation["responses"], (path, method)
        success = next(r for c, r in operation["responses"].items() if c.startswith("2"))
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
            success["headers"]
        )
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
        keys = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if method == "post":
            assert {"409", "422"} <= set(operation["responses"]), (path, method)
            assert keys[0]["in"] == "header" and keys[0]["schema"]["maxLength"] == 255
        else:
            assert keys == [], (path, method)
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


def test_the_error_shape_lists_its_codes(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"message", "statusCode", "code", "requestId", "details"}
    assert set(error["required"]) == set(error["properties"])
    codes = error["properties"]["code"]["enum"]
    assert {
        "validation_failed", "not_found", "unauthorized", "forbidden", "state_conflict",
        "idempotency_key_reused", "idempotency_request_in_flight", "rate_limited",
        "payload_too_large", "unsupported_media_type", "method_not_allowed",
        "service_unavailable", "internal_error",
    } <= set(codes)  # fmt: skip


def test_the_interactive_reference_uses_only_local_assets(client: TestClient[Any]) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code in (301, 302, 307, 308) and root.headers["location"] == "/docs"
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (
        "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    )
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page.text
        assert client.get(f"/docs/assets/{asset}").status_code == 200
