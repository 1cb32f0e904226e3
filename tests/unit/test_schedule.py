"""Occurrence dates: k x interval periods from the start, clamping to the month's end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, StateConflict
from domain.meta import system_meta
from domain.recurring import ENDED, RecurringInvoice, occurrence_invoice_id
from domain.schedule import add_months, occurrence
from domain.values import LineItem

META = system_meta("tests")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_monthly_from_the_31st_clamps_and_comes_back() -> None:
    dates = [occurrence(date(2026, 1, 31), "MONTHLY", 1, k) for k in range(4)]
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert occurrence(date(2028, 1, 31), "MONTHLY", 1, 1) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("frequency", "interval", "k", "expected"),
    [
        ("DAILY", 3, 2, date(2026, 3, 7)),
        ("WEEKLY", 2, 1, date(2026, 3, 15)),
        ("QUARTERLY", 1, 3, date(2026, 12, 1)),
        ("YEARLY", 1, 2, date(2028, 3, 1)),
        ("MONTHLY", 5, 2, date(2027, 1, 1)),
    ],
)
def test_each_frequency(frequency: str, interval: int, k: int, expected: date) -> None:
    assert occurrence(date(2026, 3, 1), frequency, interval, k) == expected


def test_a_leap_day_yearly_falls_on_the_28th_in_common_years() -> None:
    assert occurrence(date(2028, 2, 29), "YEARLY", 1, 1) == date(2029, 2, 28)
    assert occurrence(date(2028, 2, 29), "YEARLY", 1, 4) == date(2032, 2, 29)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 600))
def test_month_arithmetic_keeps_the_day_or_the_months_last_day(start: date, months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    import calendar

    last_day = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, last_day)


def template(**overrides: object) -> RecurringInvoice:
    fields: dict[str, object] = dict(
        id=uuid4(),
        account_id=uuid4(),
        client_id=uuid4(),
        frequency="MONTHLY",
        interval=1,
        start_date=date(2026, 1, 31),
        end_date=None,
        max_occurrences=None,
        currency="GBP",
        tax_name=None,
        tax_rate=Decimal(0),
        line_items=(LineItem("x", Decimal(1), Decimal(1)),),
        notes=None,
        payment_terms_days=14,
        auto_send=False,
        at=NOW,
        meta=META,
    )
    fields.update(overrides)
    return RecurringInvoice(**fields)  # type: ignore[arg-type]


def generate(t: RecurringInvoice) -> None:
    k = t.occurrences_generated
    t.record_generated(occurrence_invoice_id(t.id, k), t.occurrence_date(k), NOW, META)


def test_max_occurrences_ends_the_template() -> None:
    t = template(max_occurrences=2)
    generate(t)
    assert t.status == "ACTIVE" and t.next_run_date == date(2026, 2, 28)
    generate(t)
    assert t.status == ENDED and t.next_run_date is None


def test_the_end_date_ends_the_template_after_its_last_occurrence() -> None:
    t = template(end_date=date(2026, 3, 30))
    generate(t)
    generate(t)
    assert t.status == ENDED  # the next one, Mar 31, is after the end date


def test_only_the_occurrence_id_is_accepted() -> None:
    t = template()
    with pytest.raises(ValueError):
        t.record_generated(uuid4(), date(2026, 1, 31), NOW, META)


def test_the_schedule_is_fixed_once_invoices_exist() -> None:
    t = template()
    generate(t)
    with pytest.raises(StateConflict):
        t.update({"interval": 2}, NOW, META)
    with pytest.raises(InvalidInput):
        t.update({"max_occurrences": 0}, NOW, META)
    t.update({"notes": "new notes"}, NOW, META)
    assert t.notes == "new notes"


def test_an_ended_template_cannot_be_paused_resumed_or_changed() -> None:
    t = template()
    t.end(NOW, META)
    for action in (t.pause, t.resume, t.end):
        with pytest.raises(StateConflict):
            action(NOW, META)
    with pytest.raises(StateConflict):
        t.update({"notes": "x"}, NOW, META)


def test_a_paused_template_is_not_due() -> None:
    t = template()
    t.pause(NOW, META)
    assert not t.is_due(date(2027, 1, 1))
    t.resume(NOW, META)
    assert t.is_due(date(2027, 1, 1))
