"""Long payment tuples are encoded by extending the array of the tuple before: the
row's state and the array are byte for byte what encoding them whole gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import msgspec

from domain.invoice import Invoice
from projections.grown_arrays import GrownArrays
from projections.invoice_state import InvoiceState
from projections.state import TypedState
from tests.unit.test_invoice_rules import META, NOW, new_invoice


def whole(invoice: Any) -> bytes:
    """The typed state encoded in one piece, as before arrays were kept."""
    state = {
        k: v for k, v in vars(invoice).items() if k not in ("_id", "_version", "_pending_events")
    }
    checked = msgspec.convert(state, InvoiceState, from_attributes=True)
    return b'["domain.invoice:Invoice",' + msgspec.json.encode(checked) + b"]"


def test_a_state_with_many_payments_is_the_one_encoded_whole_after_each_payment() -> None:
    typed = TypedState(Invoice, InvoiceState)
    invoice = new_invoice("SENT")
    for n in range(40):
        at = NOW + timedelta(seconds=n, microseconds=n * 7)
        invoice.record_payment(uuid4(), Decimal("0.25"), NOW.date(), "card", f"r{n}", at, META)
        assert typed.dump(invoice) == whole(invoice)
    loaded = typed.load(invoice.id, invoice.version, whole(invoice))
    assert loaded.payments == invoice.payments


def test_a_tuple_that_is_not_the_last_one_extended_is_encoded_whole() -> None:
    """Two branches of one invoice (a command that failed, another process's state):
    the second never takes the first's array."""
    arrays = GrownArrays(lambda items: msgspec.json.encode(items)[1:-1], 1 << 20)
    base = tuple(range(20))
    first, second = (*base, 100), (*base, 200, 201)
    assert arrays.array("x", first) == msgspec.json.encode(first)
    assert arrays.array("x", second) == msgspec.json.encode(second)
    assert arrays.array("x", (*second, 3)) == msgspec.json.encode((*second, 3))
    equal_not_same = tuple(int(str(n)) + 1000 - 1000 for n in (*second, 3, 4))
    assert arrays.array("x", equal_not_same) == msgspec.json.encode(equal_not_same)
