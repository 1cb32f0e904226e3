"""An invoice's subtotal and tax, kept by the identity of its lines, are the same
Decimals (value and exponent) as the contract's arithmetic gives afresh."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import money
from domain.values import LineItem, _LineSums, compute_totals

AMOUNTS = st.decimals(min_value=Decimal("0"), max_value=Decimal(10**6), places=4)
RATES = st.decimals(min_value=Decimal("0"), max_value=Decimal(100), places=3)
CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "CLF"])
LINES = st.lists(st.builds(LineItem, st.text(max_size=5), AMOUNTS, AMOUNTS), max_size=4).map(tuple)


def afresh(lines: tuple[LineItem, ...], rate: Decimal, currency: str) -> tuple[str, str]:
    zero = money.round_money(Decimal(0), currency)
    subtotal = sum((money.line_amount(i.quantity, i.unit_price, currency) for i in lines), zero)
    return str(subtotal), str(money.tax_amount(subtotal, rate, currency))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LINES, RATES, CURRENCIES, st.booleans()), min_size=1, max_size=8))
def test_kept_sums_are_the_sums_made_afresh(
    steps: list[tuple[tuple[LineItem, ...], Decimal, str, bool]],
) -> None:
    sums = _LineSums()
    kept_lines: tuple[LineItem, ...] = ()
    for lines, rate, currency, same_lines in steps:
        # The same tuple again (as an invoice's next event holds it), read with another
        # rate or currency, or another tuple.
        if same_lines:
            lines = kept_lines
        kept_lines = lines
        # The same rate's value with another exponent must not take the kept sums.
        for each_rate in (rate, Decimal(str(rate) + "0")):
            got = sums(lines, each_rate, currency)
            assert (str(got[0]), str(got[1])) == afresh(lines, each_rate, currency)


def test_totals_read_again_are_the_same() -> None:
    lines = (LineItem("Consulting", Decimal("2.5"), Decimal("100.005")),)
    rate = Decimal("20")
    first = compute_totals(lines, rate, "GBP")
    again = compute_totals(lines, rate, "GBP")
    assert first == again
    assert (str(first.subtotal), str(first.tax_amount), str(first.total)) == (
        "250.01",
        "50.00",
        "300.01",
    )
    assert str(compute_totals(lines, rate, "JPY").total) == "300"


def test_a_zero_is_the_currency_zero() -> None:
    for code in money.MINOR_UNITS:
        expected = money.round_money(Decimal(0), code)
        assert str(money.zero(code)) == str(expected)
