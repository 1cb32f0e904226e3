"""Money: exact decimals, half-up rounding, ISO 4217 minor units."""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import money
from domain.errors import InvalidInput
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


def test_a_tiny_amount_keeps_its_places_and_does_not_fit_a_currency() -> None:
    tiny = Decimal("1e-999999999")
    assert money.decimal_places(tiny) == 999999999
    assert not money.fits_currency(tiny, "GBP")
    assert money.decimal_places(Decimal("1.500")) == 1
    assert money.decimal_places(Decimal("1e999999999")) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e-999999999", "Must have at most 4 decimal places"),
        ("0e-999999999", "Must be greater than 0"),
        ("1e999999999", "Must be at most 1000000000000"),
        ("-1e400", "Must be greater than 0"),
        ("1e99999999999999999999", "Must be a number"),
        ("sNaN", "Must be a finite number"),
        ("Infinity", "Must be a finite number"),
        ("twelve", "Must be a number"),
    ],
)
def test_hostile_amounts_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(money.InvalidAmount) as refused:
        money.parse(text, places=4, maximum=Decimal(10**12), exclusive_minimum=Decimal(0))
    assert refused.value.message == message


def test_parsed_amounts_are_plain_and_exact() -> None:
    parse = functools.partial(money.parse, places=4, maximum=Decimal(10**12))
    assert str(parse("9.0000E+2")) == "900.00"
    assert str(parse("1E+2")) == "100"
    assert str(parse("1.50000000")) == "1.5000"
    assert str(parse(Decimal("-0"))) == "0"
    assert parse(10**12) == Decimal(10**12)


number_texts = st.from_regex(
    r"[+-]?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,20})?", fullmatch=True
)
exotic = st.sampled_from(["NaN", "-sNaN", "Infinity", "-Inf", "1e-999999999", "1e999999999"])
anything = st.one_of(
    number_texts,
    exotic,
    st.text(max_size=40),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.builds(
        lambda m, e: f"{m}e{e}", st.integers(-(10**9), 10**9), st.integers(-(10**19), 10**19)
    ),
    st.none(),
    st.booleans(),
    st.floats(),
)


@settings(max_examples=100, deadline=None)
@given(anything, st.integers(min_value=0, max_value=4), st.booleans())
def test_parsing_any_number_gives_a_bounded_exact_decimal_or_a_validation_error(
    value: object, places: int, exclusive: bool
) -> None:
    maximum = Decimal(10**12)
    bound = {"exclusive_minimum" if exclusive else "minimum": Decimal(0)}
    try:
        parsed = money.parse(value, places=places, maximum=maximum, **bound)
    except InvalidInput:
        return
    assert isinstance(value, (str, int, Decimal)) and not isinstance(value, bool)
    assert parsed == Decimal(value)  # exact: nothing was rounded away
    assert (parsed > 0 if exclusive else parsed >= 0) and parsed <= maximum
    assert -places <= parsed.as_tuple().exponent <= 0  # type: ignore[operator]
