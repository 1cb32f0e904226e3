"""An invoice's row keeps its state in a typed encoding (msgspec against a TypedDict):
it loads back exactly as the event store replays it, rows in the generic encoding of
earlier releases still load, and an invoice the TypedDict does not describe is stored
generically instead of losing an attribute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.invoices import NewInvoice
from domain.invoice import Invoice
from domain.values import Email, LineItem, Payment
from infrastructure.bootstrap import Services
from projections.state import StateCodec
from tests.support import META, assert_typed_round_trip, make_tenant, state_of, typed_prefix

LINES = (LineItem("Work", Decimal(3), Decimal("100.50")),)
TYPED_PREFIX = typed_prefix(Invoice)


def invoice_row(services: Services, invoice_id: UUID) -> tuple[int, bytes]:
    row = services.db.statement(
        "SELECT version, state FROM view_invoices WHERE id = ?", (str(invoice_id),)
    )
    assert row is not None
    return int(row[0]), bytes(row[1])


def paid_invoice(services: Services) -> tuple[UUID, UUID]:
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "C", "email": "c@example.com"}, META)
    invoice = app.create_invoice(tenant.account_id, NewInvoice(client.id, LINES), META)
    app.send_invoice(tenant.account_id, invoice.id, None, None, None, META)
    for amount in ("10.00", "0.01", "25"):
        app.record_payment(
            tenant.account_id, invoice.id, Decimal(amount), None, "bank", "réf ✓", META
        )
    return tenant.account_id, invoice.id


def test_the_row_loads_exactly_what_the_event_store_replays(services: Services) -> None:
    account_id, invoice_id = paid_invoice(services)
    version, state = invoice_row(services, invoice_id)
    assert state.startswith(TYPED_PREFIX)
    from_row = services.app.get_invoice(account_id, invoice_id)
    replayed = services.app.repository.get(invoice_id)
    assert version == replayed.version
    assert state_of(from_row) == state_of(replayed)
    assert [p.amount for p in from_row.payments] == [Decimal("10.00"), Decimal("0.01"), 25]
    assert str(from_row.payments[0].amount) == "10.00"  # the digits survive, not just the value
    assert isinstance(from_row.payments, tuple) and isinstance(from_row.emails, tuple)


def test_a_row_in_the_generic_encoding_still_loads_and_is_typed_once_written(
    services: Services,
) -> None:
    account_id, invoice_id = paid_invoice(services)
    generic = StateCodec(services.app.mapper, typed={})
    replayed = services.app.repository.get(invoice_id)
    with services.db.transaction() as cur:
        cur.execute(
            "UPDATE view_invoices SET state = ? WHERE id = ?",
            (generic.dump(replayed), str(invoice_id)),
        )
    assert not invoice_row(services, invoice_id)[1].startswith(TYPED_PREFIX)
    loaded = services.app.get_invoice(account_id, invoice_id)
    assert state_of(loaded) == state_of(replayed)
    services.app.record_payment(account_id, invoice_id, Decimal(1), None, None, None, META)
    version, state = invoice_row(services, invoice_id)
    assert state.startswith(TYPED_PREFIX) and version == replayed.version + 1
    assert (
        loaded.totals.amount_due - 1
        == services.app.get_invoice(account_id, invoice_id).totals.amount_due
    )


def test_an_invoice_with_an_attribute_the_schema_lacks_is_stored_generically(
    services: Services,
) -> None:
    account_id, invoice_id = paid_invoice(services)
    codec = StateCodec(services.app.mapper)
    invoice = services.app.get_invoice(account_id, invoice_id)
    invoice.added_later = "kept"  # type: ignore[attr-defined]
    encoded = codec.dump(invoice)
    assert not encoded.startswith(TYPED_PREFIX)
    assert codec.load(invoice_id, invoice.version, encoded).added_later == "kept"
    invoice.added_later = None  # type: ignore[attr-defined]
    del invoice.added_later  # type: ignore[attr-defined]
    invoice.notes = 42  # a value of a type the schema does not allow
    encoded = codec.dump(invoice)
    assert not encoded.startswith(TYPED_PREFIX)
    assert codec.load(invoice_id, invoice.version, encoded).notes == 42


texts = st.one_of(st.none(), st.text(max_size=30))
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**9), places=2)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    at = draw(moments)
    invoice = Invoice(
        id=uuid4(),
        account_id=uuid4(),
        number=draw(st.text(min_size=1, max_size=12)),
        client_id=uuid4(),
        issue_date=at.date(),
        due_date=at.date() + timedelta(days=draw(st.integers(0, 90))),
        currency=draw(st.sampled_from(["GBP", "JPY", "BHD"])),
        tax_name=draw(texts),
        tax_rate=draw(st.decimals(min_value=0, max_value=100, places=3)),
        line_items=(LineItem(draw(st.text(max_size=20)), Decimal(1), Decimal(10**12)),),
        notes=draw(texts),
        status="SENT",
        recurring_invoice_id=draw(st.one_of(st.none(), st.uuids())),
        at=at,
        meta=META,
    )
    for amount in draw(st.lists(amounts, max_size=5)):
        day = draw(st.dates(min_value=date(2000, 1, 1)))
        payment = Payment(uuid4(), amount, day, draw(texts), draw(texts), draw(moments))
        invoice._payment_recorded(payment=payment, at=draw(moments), meta=META)
    for _ in range(draw(st.integers(0, 2))):
        email = Email(uuid4(), "x@example.com", draw(st.text()), draw(st.text()), "<m@x>")
        invoice._sent(email=email, at=draw(moments), meta=META)
    return invoice


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(invoice=invoices())
def test_any_invoice_round_trips_through_the_typed_encoding(
    services: Services, invoice: Invoice
) -> None:
    assert_typed_round_trip(services, invoice)
