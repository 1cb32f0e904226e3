"""Request helpers for API tests."""

from __future__ import annotations

import copy
from typing import Any

from litestar.testing import TestClient

from api.examples import CLIENT_EXAMPLE, INVOICE_EXAMPLE
from tests.support import Tenant

EXAMPLE_CLIENT = CLIENT_EXAMPLE


def example_invoice(client_id: str, **overrides: Any) -> dict[str, Any]:
    """The contract's invoice example for this client, with any fields overridden."""
    return {**copy.deepcopy(INVOICE_EXAMPLE), "clientId": client_id, **overrides}


def create_client(api: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    response = api.post(
        "/api/v1/clients", json={**EXAMPLE_CLIENT, **fields}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def create_invoice(
    api: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    client_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    if client_id is None:
        client_id = create_client(api, tenant)["id"]
    response = api.post(
        "/api/v1/invoices", json=example_invoice(client_id, **overrides), headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
