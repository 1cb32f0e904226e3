"""The OpenAPI document is generated from the code and says what the contract says."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

EXPECTED = {
    "/api/v1/clients": {"get", "post"},
    "/api/v1/clients/{id}": {"get", "put", "patch"},
    "/api/v1/invoices": {"get", "post"},
    "/api/v1/invoices/{id}": {"get", "put", "patch"},
    "/api/v1/invoices/outstanding": {"get"},
    "/api/v1/invoices/{id}/paid": {"post"},
    "/api/v1/invoices/{id}/void": {"post"},
    "/api/v1/invoices/{id}/history": {"get"},
    "/api/v1/audit-log": {"get"},
    "/api/v1/audit-log/digest": {"get"},
    "/api/v1/invoices/{id}/send": {"post"},
    "/api/v1/invoices/{id}/pdf": {"get"},
    "/api/v1/account": {"get", "patch"},
    "/api/v1/recurring-invoices": {"get", "post"},
    "/api/v1/recurring-invoices/{id}": {"get", "put", "patch"},
    "/api/v1/recurring-invoices/{id}/pause": {"post"},
    "/api/v1/recurring-invoices/{id}/resume": {"post"},
    "/api/v1/recurring-invoices/{id}/end": {"post"},
    "/health/live": {"get"},
    "/health/ready": {"get"},
}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_contract_path_and_method_is_documented(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    paths = {p: set(ops) for p, ops in document["paths"].items()}
    assert paths == EXPECTED


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_request_bodies_carry_the_contract_examples(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/invoices"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert create["example"]["lineItems"] == [
        {"description": "Web Development", "quantity": 10, "unitPrice": 75.0}
    ]
    schema = document["components"]["schemas"]["InvoiceCreate"]
    assert set(schema["required"]) == {"clientId", "lineItems"}
    assert "unitPrice" in document["components"]["schemas"]["LineItemIn"]["properties"]
    client = document["paths"]["/api/v1/clients"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert client["example"]["name"] == "John Doe"
    paid = document["paths"]["/api/v1/invoices/{id}/paid"]["post"]["requestBody"]
    assert paid["required"] is False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_api_operation_documents_its_scope_and_error_shape(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            assert "Requires scope" in operation["description"], (path, method)
            assert operation["security"] == [{"BearerAuth": []}]
            for code in ("401", "403", "500"):
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}
            if "{id}" in path:
                assert "404" in operation["responses"]
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"message", "statusCode", "details"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rate_limit_headers_and_idempotency_are_documented(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/invoices"]["post"]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        create["responses"]["201"]["headers"]
    )
    assert "Retry-After" in create["responses"]["429"]["headers"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert {"409", "422"} <= set(create["responses"])
    listing = document["paths"]["/api/v1/invoices"]["get"]
    assert not any(p["name"] == "Idempotency-Key" for p in listing.get("parameters", []))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_interactive_reference_uses_only_local_assets(client: TestClient) -> None:  # type: ignore[type-arg]
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (
        "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    )
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/docs/assets/{asset}" in page.text
        assert client.get(f"/docs/assets/{asset}").status_code == 200
