"""An invoice's stored document: with many payments, their JSON is kept between
commands, and the document is the one shaped afresh, byte for byte."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import msgspec

from api import render
from api.documents import ApiDocuments, _key
from api.responses import encode
from domain.values import Payment
from tests.unit.test_invoice_rules import META, NOW, new_invoice


def fresh(invoice: object) -> bytes:
    return encode(render.invoice(invoice, date.min))  # type: ignore[arg-type]


def test_a_document_with_many_payments_is_the_one_shaped_afresh() -> None:
    invoice = new_invoice("SENT")
    documents = ApiDocuments()
    for n in range(40):
        at = NOW + timedelta(seconds=n, microseconds=n * 1001)
        invoice.record_payment(
            uuid4(), Decimal("1.50"), date(2026, 3, 1), "card", f"r{n}", at, META
        )
        assert documents.invoice(invoice) == fresh(invoice)
    payments = msgspec.json.decode(documents.invoice(invoice))["payments"]
    assert [p["reference"] for p in payments] == [f"r{n}" for n in range(40)]
    assert payments[39]["recordedAt"] == "2026-02-10T12:00:39.039Z"


def test_a_payment_that_differs_from_the_kept_one_is_shaped_from_its_own_fields() -> None:
    """Another payment under an id already seen (another invoice's, say) never shows
    the kept text: only an equal payment does."""
    first, second = new_invoice("SENT"), new_invoice("SENT")
    documents = ApiDocuments()
    for _ in range(20):
        first.record_payment(uuid4(), Decimal(1), date(2026, 3, 1), None, None, NOW, META)
    documents.invoice(first)
    for n, earlier in enumerate(first.payments):
        second.record_payment(earlier.id, Decimal(2), date(2026, 3, 2), "bank", str(n), NOW, META)
    document = msgspec.json.decode(documents.invoice(second))
    assert document["amountPaid"] == 40
    assert {p["amount"] for p in document["payments"]} == {2}
    assert {p["paymentDate"] for p in document["payments"]} == {"2026-03-02T00:00:00Z"}
    assert documents.invoice(second) == fresh(second)


def test_every_field_of_a_payment_is_part_of_what_its_kept_json_is_found_by() -> None:
    """Changing any one field of a payment finds no kept text (a field added to
    Payment must be given an alternative here, and join the key)."""
    invoice = new_invoice("SENT")
    invoice.record_payment(uuid4(), Decimal("5.00"), date(2026, 3, 1), "card", "r", NOW, META)
    payment = invoice.payments[0]
    others = {
        "id": uuid4(),
        "amount": Decimal("5"),  # equal as a Decimal, written otherwise
        "payment_date": date(2026, 3, 2),
        "payment_method": "bank",
        "reference": "s",
        "recorded_at": NOW + timedelta(microseconds=1),
    }
    assert set(others) == {f.name for f in fields(Payment)}
    for name, value in others.items():
        assert _key(replace(payment, **{name: value})) != _key(payment), name
