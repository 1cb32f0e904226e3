"""Another account's objects: 404 on every endpoint, exactly as for an id that never
existed, absent from every list, refused as references, and left unchanged."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from api.examples import RECURRING_EXAMPLE
from infrastructure.bootstrap import Services
from tests.api.helpers import create_client, create_invoice
from tests.support import Tenant

NEVER = str(uuid.uuid4())


def calls(
    client_id: str, invoice_id: str, template_id: str
) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every route that takes an object's id: reads, edits and actions."""
    return [
        ("GET", f"/api/v1/clients/{client_id}", None),
        ("PUT", f"/api/v1/clients/{client_id}", {"city": "Leeds"}),
        ("PATCH", f"/api/v1/clients/{client_id}", {"city": "Leeds"}),
        ("GET", f"/api/v1/invoices/{invoice_id}", None),
        ("HEAD", f"/api/v1/invoices/{invoice_id}", None),
        ("PUT", f"/api/v1/invoices/{invoice_id}", {"notes": "mine now"}),
        ("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "mine now"}),
        ("POST", f"/api/v1/invoices/{invoice_id}/paid", {"amount": 1}),
        ("POST", f"/api/v1/invoices/{invoice_id}/void", None),
        ("POST", f"/api/v1/invoices/{invoice_id}/send", None),
        ("GET", f"/api/v1/invoices/{invoice_id}/pdf", None),
        ("GET", f"/api/v1/invoices/{invoice_id}/history", None),
        ("GET", f"/api/v1/recurring-invoices/{template_id}", None),
        ("PUT", f"/api/v1/recurring-invoices/{template_id}", {"interval": 2}),
        ("PATCH", f"/api/v1/recurring-invoices/{template_id}", {"interval": 2}),
        ("POST", f"/api/v1/recurring-invoices/{template_id}/pause", None),
        ("POST", f"/api/v1/recurring-invoices/{template_id}/resume", None),
        ("POST", f"/api/v1/recurring-invoices/{template_id}/end", None),
    ]


def without_request_id(body: bytes) -> bytes:
    """The error body with its request id blanked (the only part that may differ)."""
    return re.sub(rb'"requestId":"[^"]*"', b'"requestId":""', body)


def create_template(api: TestClient[Any], tenant: Tenant, client_id: str) -> dict[str, object]:
    body = {**RECURRING_EXAMPLE, "clientId": client_id}
    response = api.post("/api/v1/recurring-invoices", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_every_endpoint_answers_404_like_for_an_unknown_id(
    client: TestClient[Any],
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    theirs_client = create_client(client, other_tenant)
    theirs_invoice = create_invoice(client, other_tenant, theirs_client["id"])
    theirs_template = create_template(client, other_tenant, theirs_client["id"])
    theirs = calls(theirs_client["id"], theirs_invoice["id"], str(theirs_template["id"]))
    for (method, path, body), (_, unknown_path, _) in zip(
        theirs, calls(NEVER, NEVER, NEVER), strict=True
    ):
        mine = client.request(method, path, json=body, headers=tenant.headers)
        unknown = client.request(method, unknown_path, json=body, headers=tenant.headers)
        assert mine.status_code == unknown.status_code == 404, (method, path, mine.text)
        # Byte for byte, apart from the request id: nothing tells the two apart.
        assert without_request_id(mine.content) == without_request_id(unknown.content), path
        assert {k for k in mine.headers if k != "x-request-id"} == {
            k for k in unknown.headers if k != "x-request-id"
        }
    # Nothing of theirs changed.
    after = client.get(
        f"/api/v1/invoices/{theirs_invoice['id']}", headers=other_tenant.headers
    ).json()
    assert after["status"] == "DRAFT" and after["notes"] is None and after["payments"] == []
    assert after["emails"] == []
    got = client.get(f"/api/v1/clients/{theirs_client['id']}", headers=other_tenant.headers).json()
    assert got["city"] == "London"
    template = client.get(
        f"/api/v1/recurring-invoices/{theirs_template['id']}", headers=other_tenant.headers
    ).json()
    assert template == theirs_template


def test_another_accounts_id_is_refused_without_loading_its_events(
    client: TestClient[Any],
    tenant: Tenant,
    other_tenant: Tenant,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs = create_invoice(client, other_tenant)
    loaded: list[object] = []
    real_get = services.app.repository.get

    def counting_get(*args: object, **kwargs: object) -> object:
        loaded.append(args[0])
        return real_get(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services.app.repository, "get", counting_get)
    for path in (f"/api/v1/invoices/{theirs['id']}", f"/api/v1/invoices/{NEVER}"):
        assert client.get(path, headers=tenant.headers).status_code == 404
    # Neither id was loaded (keys and accounts are, to authenticate the request).
    assert {str(i) for i in loaded} & {theirs["id"], NEVER} == set()
    owner = client.get(f"/api/v1/invoices/{theirs['id']}", headers=other_tenant.headers)
    assert owner.status_code == 200  # the owner reads it (from its read-model row)


@pytest.mark.parametrize("path", ["/api/v1/clients/not-a-uuid", "/api/v1/invoices/123/paid"])
def test_a_malformed_id_is_a_404(client: TestClient[Any], tenant: Tenant, path: str) -> None:
    method = "POST" if path.endswith("/paid") else "GET"
    assert client.request(method, path, headers=tenant.headers).status_code == 404


def test_an_id_of_another_kind_is_a_404(client: TestClient[Any], tenant: Tenant) -> None:
    invoice = create_invoice(client, tenant)
    assert client.get(f"/api/v1/clients/{invoice['id']}", headers=tenant.headers).status_code == 404
    assert (
        client.get(f"/api/v1/invoices/{invoice['clientId']}", headers=tenant.headers).status_code
        == 404
    )


def test_lists_never_show_another_accounts_objects(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    theirs = create_client(client, other_tenant, name="Secret Client", email="secret@x.example")
    create_invoice(client, other_tenant, theirs["id"], status="SENT")
    mine = create_invoice(client, tenant)
    h = tenant.headers
    assert client.get("/api/v1/clients", headers=h).json()["data"][0]["id"] == mine["clientId"]
    assert (
        client.get("/api/v1/clients", params={"search": "secret"}, headers=h).json()["data"] == []
    )
    assert [i["id"] for i in client.get("/api/v1/invoices", headers=h).json()["data"]] == [
        mine["id"]
    ]
    assert (
        client.get("/api/v1/invoices", params={"clientId": theirs["id"]}, headers=h).json()["data"]
        == []
    )
    outstanding = client.get("/api/v1/invoices/outstanding", headers=h).json()
    assert outstanding["data"] == [] and outstanding["summary"] == {"count": 0, "totalDue": {}}
    log = client.get("/api/v1/audit-log", params={"entityId": theirs["id"]}, headers=h).json()
    assert log["data"] == []


def test_another_accounts_client_cannot_be_referenced(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,  # type: ignore[type-arg]
) -> None:
    theirs = create_client(client, other_tenant)
    r = client.post(
        "/api/v1/invoices",
        json={
            "clientId": theirs["id"],
            "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1}],
        },
        headers=tenant.headers,
    )
    assert r.status_code == 400 and list(r.json()["error"]["details"]) == ["clientId"]
    draft = create_invoice(client, tenant)
    r = client.patch(
        f"/api/v1/invoices/{draft['id']}", json={"clientId": theirs["id"]}, headers=tenant.headers
    )
    assert r.status_code == 400 and "clientId" in r.json()["error"]["details"]
    assert (
        client.get(f"/api/v1/invoices/{draft['id']}", headers=tenant.headers).json()["clientId"]
        == draft["clientId"]
    )
    assert create_invoice(client, tenant)["invoiceNumber"] == "SI-002"  # no number was used up
