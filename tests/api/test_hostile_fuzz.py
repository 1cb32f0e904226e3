"""Arbitrary JSON in any field of any request body is answered with 2xx or 4xx, never 5xx."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from api.requests import AccountUpdate, ClientCreate, InvoiceCreate, RecurringCreate
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.api.helpers import EXAMPLE_CLIENT, create_client, create_invoice, example_invoice
from tests.support import Tenant

Api = TestClient[Litestar]


def names(body: type[msgspec.Struct]) -> list[str]:
    """The fields of a request body as the client writes them."""
    return [field.encode_name for field in msgspec.structs.fields(body)]


CLIENT_FIELDS = names(ClientCreate)
INVOICE_FIELDS = names(InvoiceCreate)
TEMPLATE_FIELDS = names(RecurringCreate)
PROFILE = names(AccountUpdate)
FUZZ = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """Limits high enough that a long run never meets them (a 429 would hide the rest)."""
    yield dataclasses.replace(settings, read_rate_limit=10**6, write_rate_limit=10**6)


class Literal(str):
    """A number written into the JSON exactly as is (1e400, 1e-999999999, 0.1000...)."""


NUMBER_TEXT = r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,12})?"
# Values known to have broken parsers somewhere; drawn as often as everything else.
HOSTILE = st.sampled_from(
    [Literal("1e400"), Literal("-1e400"), Literal("1e-400"), Literal("1e999999999"),
     Literal("1e-999999999"), Literal("1e99999999999999999999"), Literal("0e-999999999"),
     2**63, -(2**63) - 1, 10**300, "NaN", "Infinity", "\x00", "a\x00b", "\ud800",
     "9999-12-31", "0001-01-01", "9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00",
     "", " ", "x" * 600, [[[[[]]]]], {"": None}]
)  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.from_regex(NUMBER_TEXT, fullmatch=True).map(Literal),
    st.text(max_size=20),  # NUL, controls and lone surrogates included
    st.sampled_from(["2026-02-10", "GBP", "DRAFT", "MONTHLY", "a@example.com"]),
)
json_values = HOSTILE | st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def dump(value: Any, ascii_only: bool) -> str:
    """JSON text; with ascii_only False a lone surrogate becomes bytes that are not UTF-8."""
    if isinstance(value, Literal):
        return str(value)
    if isinstance(value, dict):
        pairs = (
            f"{json.dumps(k, ensure_ascii=ascii_only)}:{dump(v, ascii_only)}"
            for k, v in value.items()
        )
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def substitute(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    """The body with the field at `path` set to `value` (the empty path replaces it all)."""
    if not path:
        return value
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def paths(fields: Any, *, lines: bool = False) -> list[tuple[Any, ...]]:
    """Each field, the first line's fields, an unknown field, and the body itself."""
    line = [("lineItems", 0, name) for name in ("description", "quantity", "unitPrice")]
    return [(), ("surprise",), *((f,) for f in fields), *(line if lines else [])]


def send(api: Api, tenant: Tenant, method: str, url: str, body: Any, ascii_only: bool) -> None:
    content = dump(body, ascii_only).encode("utf-8", "surrogatepass")
    headers = {**tenant.headers, "Content-Type": "application/json"}
    r = api.request(method, url, content=content, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text, content[:300])
    if r.status_code >= 400:
        error = r.json()["error"]
        assert error["statusCode"] == r.status_code and isinstance(error["details"], dict)


fuzzed = given(data=st.data(), value=json_values, ascii_only=st.booleans())


@FUZZ
@fuzzed
def test_creating_clients(
    client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool
) -> None:
    path = data.draw(st.sampled_from(paths(CLIENT_FIELDS)))
    send(
        client,
        tenant,
        "POST",
        "/api/v1/clients",
        substitute(dict(EXAMPLE_CLIENT), path, value),
        ascii_only,
    )


@FUZZ
@fuzzed
def test_creating_and_editing_invoices(
    client: Api,
    tenant: Tenant,
    data: Any,
    value: Any,
    ascii_only: bool,
) -> None:
    inv = create_invoice(client, tenant)
    base = example_invoice(inv["clientId"])
    path = data.draw(st.sampled_from(paths(INVOICE_FIELDS, lines=True)))
    send(client, tenant, "POST", "/api/v1/invoices", substitute(base, path, value), ascii_only)
    base.pop("status")
    url = f"/api/v1/invoices/{inv['id']}"
    send(client, tenant, "PATCH", url, substitute(base, path, value), ascii_only)


@FUZZ
@fuzzed
def test_recording_payments(
    client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool
) -> None:
    inv = create_invoice(client, tenant)
    base = {"amount": 100, "paymentDate": "2026-02-10", "paymentMethod": "Card", "reference": "R"}
    path = data.draw(st.sampled_from(paths(base)))
    url = f"/api/v1/invoices/{inv['id']}/paid"
    send(client, tenant, "POST", url, substitute(base, path, value), ascii_only)


@FUZZ
@fuzzed
def test_sending_invoices(
    client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool
) -> None:
    inv = create_invoice(client, tenant)
    base = {"toEmail": "client@example.com", "subject": "Invoice", "body": "Please pay"}
    path = data.draw(st.sampled_from(paths(base)))
    url = f"/api/v1/invoices/{inv['id']}/send"
    send(client, tenant, "POST", url, substitute(base, path, value), ascii_only)


@FUZZ
@fuzzed
def test_editing_the_account(
    client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool
) -> None:
    path = data.draw(st.sampled_from(paths(("plan", *PROFILE))))
    send(
        client,
        tenant,
        "PATCH",
        "/api/v1/account",
        substitute({"name": "Acme"}, path, value),
        ascii_only,
    )


@FUZZ
@fuzzed
def test_creating_recurring_invoices(
    client: Api,
    tenant: Tenant,
    services: Services,
    data: Any,
    value: Any,
    ascii_only: bool,
) -> None:
    c = create_client(client, tenant)
    base = {
        "clientId": c["id"], "frequency": "MONTHLY", "interval": 1,
        "startDate": services.app.clock.now().date().isoformat(),
        "lineItems": [{"description": "Retainer", "quantity": 1, "unitPrice": 500}],
    }  # fmt: skip
    path = data.draw(st.sampled_from(paths(TEMPLATE_FIELDS, lines=True)))
    send(
        client,
        tenant,
        "POST",
        "/api/v1/recurring-invoices",
        substitute(base, path, value),
        ascii_only,
    )


# A query string is sent as UTF-8, which a lone surrogate cannot be.
query_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)


@FUZZ
@given(name=st.sampled_from(["cursor", "search", "limit"]), value=query_text)
def test_list_query_parameters(client: Api, tenant: Tenant, name: str, value: str) -> None:
    for path in ("/api/v1/clients", "/api/v1/invoices/outstanding", "/api/v1/audit-log"):
        params = {name: value} if name != "search" or path.endswith("clients") else {}
        r = client.get(path, params=params, headers=tenant.headers)
        assert r.status_code in (200, 400), r.text
