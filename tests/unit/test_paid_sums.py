"""The paid sum of a long payment list, carried on from the list it grew from, is the
same Decimal (value and exponent) as adding every payment up from the start."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.values import Payment, _PaidSums

AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**9), places=3)


def payment(amount: Decimal) -> Payment:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return Payment(uuid4(), amount, date(2026, 3, 1), None, None, now)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.lists(AMOUNTS, min_size=1, max_size=20), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    zero=st.sampled_from([Decimal("0"), Decimal("0.00"), Decimal("0.000")]),
)
def test_a_grown_list_sums_as_from_the_start(
    steps: list[tuple[list[Decimal], bool]], zero: Decimal
) -> None:
    sums = _PaidSums()
    payments: tuple[Payment, ...] = ()
    for amounts, afresh in steps:
        grown = tuple(payment(a) for a in amounts)
        # Either the list grows (the same objects first), or an equal list is rebuilt
        # from other objects, as a load from the event store makes it.
        payments = (*payments, *grown)
        if afresh:
            payments = tuple(payment(p.amount) for p in payments)
        expected = sum((p.amount for p in payments), zero)
        got = sums(payments, zero)
        assert (got, str(got)) == (expected, str(expected))
        if len(payments) >= _PaidSums.LONG:
            assert sums(payments, zero) is got  # read again: the kept sum


def test_another_zero_is_not_carried_on() -> None:
    sums = _PaidSums()
    payments = tuple(payment(Decimal("1.5")) for _ in range(20))
    assert str(sums(payments, Decimal("0.00"))) == "30.00"
    assert str(sums((*payments, payment(Decimal(1))), Decimal("0"))) == "31.0"
