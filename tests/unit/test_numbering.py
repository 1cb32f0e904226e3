"""Invoice numbers: SI-001 ... SI-999, SI-1000, taken in order from one counter."""

from __future__ import annotations

from uuid import uuid4

from domain.numbering import InvoiceCounter, counter_id, format_number


def test_numbers_are_padded_to_three_digits_and_grow_past_999() -> None:
    assert [format_number("SI", n) for n in (1, 42, 999, 1000)] == [
        "SI-001",
        "SI-042",
        "SI-999",
        "SI-1000",
    ]


def test_a_counter_hands_out_each_number_once_in_order() -> None:
    account = uuid4()
    counter = InvoiceCounter(account_id=account)
    assert [counter.take_next(uuid4()) for _ in range(3)] == [1, 2, 3]
    assert counter.id == counter_id(account)  # one counter per account, found by id
