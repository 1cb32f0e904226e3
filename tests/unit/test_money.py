"""Money: exact decimals, half-up rounding, ISO 4217 minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import money
from domain.values import LineItem, compute_totals

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10000), places=4)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=4)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=4)
currencies = st.sampled_from(["GBP", "JPY", "KWD", "USD", "CLF"])


def test_the_public_example_gives_750_150_900() -> None:
    totals = compute_totals(
        (LineItem("Web Development", Decimal(10), Decimal("75.00")),), Decimal(20), "GBP"
    )
    assert (totals.subtotal, totals.tax_amount, totals.total) == (
        Decimal("750.00"),
        Decimal("150.00"),
        Decimal("900.00"),
    )
    assert str(totals.total) == "900.00"


@pytest.mark.parametrize(
    ("currency", "digits", "shown"),
    [("GBP", 2, "900.00"), ("JPY", 0, "900"), ("KWD", 3, "900.000"), ("CLF", 4, "900.0000")],
)
def test_minor_units_follow_iso_4217(currency: str, digits: int, shown: str) -> None:
    assert money.minor_units(currency) == digits
    assert str(money.round_money(Decimal(900), currency)) == shown


def test_half_up_rounding_rounds_half_a_penny_up_not_to_even() -> None:
    assert money.round_money(Decimal("0.125"), "GBP") == Decimal("0.13")
    assert money.round_money(Decimal("0.135"), "GBP") == Decimal("0.14")
    assert money.round_money(Decimal("2.5"), "JPY") == Decimal("3")


def test_unknown_and_withdrawn_currencies_are_not_currencies() -> None:
    for code in ["XXX", "ABC", "gbp", "HRK", "XAU", ""]:
        assert not money.is_currency(code)


@given(quantities, prices, rates, currencies)
def test_totals_are_exact_and_carry_the_currency_digits(
    quantity: Decimal, price: Decimal, rate: Decimal, currency: str
) -> None:
    totals = compute_totals((LineItem("x", quantity, price),), rate, currency)
    places = money.minor_units(currency)
    for value in (totals.subtotal, totals.tax_amount, totals.total, totals.amount_due):
        assert value.as_tuple().exponent == -places
    assert totals.total == totals.subtotal + totals.tax_amount
    # Half-up rounding never moves an amount by more than half a minor unit.
    assert abs(totals.subtotal - quantity * price) <= money.exponent(currency) / 2


@given(st.lists(st.tuples(quantities, prices), min_size=1, max_size=20), currencies)
def test_subtotal_is_the_sum_of_rounded_lines(
    lines: list[tuple[Decimal, Decimal]], currency: str
) -> None:
    items = tuple(LineItem("x", q, p) for q, p in lines)
    totals = compute_totals(items, Decimal(0), currency)
    assert totals.subtotal == sum(money.line_amount(q, p, currency) for q, p in lines)


@given(st.integers(min_value=0, max_value=10**15), currencies)
def test_minor_unit_conversion_round_trips(units: int, currency: str) -> None:
    assert money.to_minor(money.from_minor(units, currency), currency) == units
