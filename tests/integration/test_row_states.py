"""The rows of a client, an account and an account's invoice counter keep their state
in a typed encoding: each loads back exactly as the event store replays it, a new
invoice's numbering reads them and goes on from them, a row in the generic encoding of
earlier releases still loads (and is typed once written again), and a state the
TypedDict does not describe is stored generically instead of losing a value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.invoices import NewInvoice
from domain.account import Account
from domain.client import FIELDS, Client
from domain.numbering import InvoiceCounter, counter_id
from domain.values import LineItem
from infrastructure.bootstrap import Services
from projections.state import StateCodec
from tests.support import META, assert_typed_round_trip, make_tenant, state_of, typed_prefix

LINES = (LineItem("Work", Decimal(1), Decimal(10)),)
TABLES = {Client: "view_clients", Account: "view_accounts", InvoiceCounter: "view_counters"}


def row(services: Services, cls: type, obj_id: UUID) -> tuple[int, bytes]:
    found = services.db.statement(
        f"SELECT version, state FROM {TABLES[cls]} WHERE id = ?", (str(obj_id),)
    )
    assert found is not None
    return int(found[0]), bytes(found[1])


def invoiced_tenant(services: Services, invoices: int = 2) -> tuple[UUID, UUID]:
    """An account with an edited client and `invoices` invoices: (account, client)."""
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C", "email": "c@example.com"}, META)
    app.update_client(tenant.account_id, client.id, {"city": "Åbo ✓"}, META)
    for _ in range(invoices):
        app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    return tenant.account_id, client.id


def test_each_row_loads_exactly_what_the_event_store_replays(services: Services) -> None:
    account_id, client_id = invoiced_tenant(services)
    for cls, obj_id in (
        (Client, client_id),
        (Account, account_id),
        (InvoiceCounter, counter_id(account_id)),
    ):
        version, state = row(services, cls, obj_id)
        assert state.startswith(typed_prefix(cls)), cls
        from_row = services.app.from_rows((cls, None, obj_id))
        assert from_row is not None
        replayed = services.app.repository.get(obj_id)
        assert version == replayed.version
        assert state_of(from_row[0]) == state_of(replayed)
    assert services.app.invoice_counter(account_id).last == 2


def test_generic_rows_still_load_and_numbering_goes_on_from_them(services: Services) -> None:
    account_id, client_id = invoiced_tenant(services)
    generic = StateCodec(services.app.mapper, typed={})
    with services.db.transaction() as cur:
        for cls, obj_id in (
            (Client, client_id),
            (Account, account_id),
            (InvoiceCounter, counter_id(account_id)),
        ):
            replayed = services.app.repository.get(obj_id)
            cur.execute(
                f"UPDATE {TABLES[cls]} SET state = ? WHERE id = ?",
                (generic.dump(replayed), str(obj_id)),
            )
    assert not row(services, InvoiceCounter, counter_id(account_id))[1].startswith(b'["')
    invoice = services.app.create_invoice(account_id, NewInvoice(client_id, LINES), META)
    assert invoice.number == "SI-003"
    version, state = row(services, InvoiceCounter, counter_id(account_id))
    assert state.startswith(typed_prefix(InvoiceCounter)) and version == 4
    assert services.app.invoice_counter(account_id).last == 3


def test_a_state_the_schema_does_not_describe_is_stored_generically(
    services: Services,
) -> None:
    account_id, client_id = invoiced_tenant(services)
    codec = StateCodec(services.app.mapper)
    client = services.app.repository.get(client_id)
    client.details = {**client.details, "notes": 42}  # a detail that is not text
    encoded = codec.dump(client)
    assert not encoded.startswith(b'["')
    assert codec.load(client_id, client.version, encoded).details["notes"] == 42
    account = services.app.repository.get(account_id)
    account.added_later = "kept"
    encoded = codec.dump(account)
    assert not encoded.startswith(b'["')
    assert codec.load(account_id, account.version, encoded).added_later == "kept"


texts = st.one_of(st.none(), st.text(max_size=30))
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def aggregates(draw: st.DrawFn) -> Any:
    at = draw(moments)
    kind = draw(st.sampled_from([Client, Account, InvoiceCounter]))
    if kind is Client:
        details = {name: draw(texts) for name in FIELDS}
        client = Client(id=uuid4(), account_id=uuid4(), details=details, at=at, meta=META)
        if draw(st.booleans()):
            client.update({"city": draw(st.text(max_size=10))}, draw(moments), META)
        if draw(st.booleans()):
            client.archive(draw(moments), META)
        return client
    if kind is Account:
        return Account(
            name=draw(st.text(min_size=1, max_size=20)),
            email="a@example.com",
            plan=draw(st.sampled_from(["FREE", "PRO"])),
            api_access="NONE",
            at=at,
            meta=META,
        )
    counter = InvoiceCounter(account_id=uuid4())
    for _ in range(draw(st.integers(0, 3))):
        counter.take_next(uuid4())
    return counter


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(aggregate=aggregates())
def test_any_small_state_round_trips_through_the_typed_encoding(
    services: Services, aggregate: Any
) -> None:
    assert_typed_round_trip(services, aggregate)
