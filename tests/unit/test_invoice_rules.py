"""The invoice lifecycle rules, on the aggregate alone (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, StateConflict
from domain.invoice import Invoice
from domain.meta import system_meta
from domain.values import LineItem

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
META = system_meta("tests")


def new_invoice(status: str = "DRAFT", total: str = "900.00") -> Invoice:
    return Invoice(
        id=uuid4(),
        account_id=uuid4(),
        number="SI-001",
        client_id=uuid4(),
        issue_date=date(2026, 2, 10),
        due_date=date(2026, 2, 24),
        currency="GBP",
        tax_name=None,
        tax_rate=Decimal(0),
        line_items=(LineItem("Work", Decimal(1), Decimal(total)),),
        notes=None,
        status=status,
        recurring_invoice_id=None,
        at=NOW,
        meta=META,
    )


def pay(invoice: Invoice, amount: str | None) -> None:
    invoice.record_payment(
        uuid4(),
        None if amount is None else Decimal(amount),
        date(2026, 2, 11),
        None,
        None,
        NOW,
        META,
    )


def test_a_new_invoice_is_a_draft_with_nothing_paid() -> None:
    invoice = new_invoice()
    assert invoice.status == "DRAFT"
    assert invoice.totals.amount_due == Decimal("900.00")
    assert invoice.sent_at is None


def test_an_invoice_created_as_sent_records_when() -> None:
    assert new_invoice("SENT").sent_at == NOW


def test_a_partial_payment_makes_it_partially_paid() -> None:
    invoice = new_invoice("SENT")
    pay(invoice, "100")
    assert invoice.status == "PARTIALLY_PAID"
    assert invoice.totals.amount_due == Decimal("800.00")


def test_paying_the_rest_makes_it_paid() -> None:
    invoice = new_invoice("SENT")
    pay(invoice, "100")
    pay(invoice, None)
    assert invoice.status == "PAID"
    # paidAt is the final payment's date, not the moment it was recorded.
    assert invoice.paid_at == datetime(2026, 2, 11, tzinfo=UTC)
    assert invoice.totals.amount_due == Decimal("0.00")


def test_the_amount_due_follows_every_payment_of_a_long_run() -> None:
    """Totals of long payment lists are remembered between reads: each new payment
    still counts, and the last one due closes the invoice."""
    invoice = new_invoice("SENT", total="40.00")
    for n in range(1, 40):
        pay(invoice, "1")
        assert invoice.totals.amount_paid == Decimal(n)
        assert invoice.totals.amount_due == Decimal(40 - n)
    pay(invoice, None)
    assert invoice.status == "PAID"
    assert len(invoice.payments) == 40
    assert invoice.totals.amount_due == Decimal("0.00")


def test_paying_a_draft_issues_it_first() -> None:
    invoice = new_invoice()
    pay(invoice, "900")
    assert invoice.status == "PAID"
    assert invoice.sent_at == NOW
    assert [type(e).__name__ for e in invoice.collect_events()] == [
        "Created",
        "Issued",
        "PaymentRecorded",
    ]


def test_paying_more_than_due_is_rejected() -> None:
    invoice = new_invoice("SENT")
    with pytest.raises(InvalidInput) as error:
        pay(invoice, "900.01")
    assert "amount" in error.value.details


def test_paying_fractions_of_a_penny_is_rejected() -> None:
    with pytest.raises(InvalidInput) as error:
        pay(new_invoice("SENT"), "1.005")
    assert "amount" in error.value.details


@pytest.mark.parametrize("amount", ["0", "-1"])
def test_paying_nothing_or_less_is_rejected(amount: str) -> None:
    with pytest.raises(InvalidInput):
        pay(new_invoice("SENT"), amount)


def test_a_paid_invoice_takes_no_more_payments() -> None:
    invoice = new_invoice("SENT")
    pay(invoice, None)
    with pytest.raises(StateConflict):
        pay(invoice, "1")


def test_a_void_invoice_takes_no_payments() -> None:
    invoice = new_invoice("SENT")
    invoice.void(NOW, META)
    with pytest.raises(StateConflict):
        pay(invoice, "1")


def test_an_invoice_with_payments_cannot_be_voided() -> None:
    invoice = new_invoice("SENT")
    pay(invoice, "1")
    with pytest.raises(StateConflict):
        invoice.void(NOW, META)


def test_voiding_twice_is_a_conflict() -> None:
    invoice = new_invoice()
    invoice.void(NOW, META)
    assert invoice.status == "VOID"
    with pytest.raises(StateConflict):
        invoice.void(NOW, META)


def test_only_a_draft_can_be_edited() -> None:
    invoice = new_invoice("SENT")
    with pytest.raises(StateConflict):
        invoice.update({"notes": "x"}, NOW, META)


def test_an_edit_cannot_put_the_due_date_before_the_issue_date() -> None:
    invoice = new_invoice()
    with pytest.raises(InvalidInput) as error:
        invoice.update({"due_date": date(2026, 2, 1)}, NOW, META)
    assert "dueDate" in error.value.details


def test_an_edit_recomputes_the_totals() -> None:
    invoice = new_invoice()
    invoice.update({"tax_rate": Decimal(20)}, NOW, META)
    assert invoice.totals.total == Decimal("1080.00")


def test_overdue_means_open_and_past_due() -> None:
    invoice = new_invoice("SENT")
    assert not invoice.is_overdue(date(2026, 2, 24))
    assert invoice.is_overdue(date(2026, 2, 25))
    draft = new_invoice()
    assert not draft.is_overdue(date(2027, 1, 1))
