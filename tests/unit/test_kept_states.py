"""What a process keeps of large aggregate states: only large ones, within a budget of
bytes, never older over newer, and each one handed out as a copy of its own."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from projections.kept_states import KeptStates
from tests.unit.test_invoice_rules import META, NOW, new_invoice


def paid(invoice: object) -> object:
    invoice.record_payment(uuid4(), Decimal(1), NOW.date(), None, None, NOW, META)  # type: ignore[attr-defined]
    return invoice


def test_small_states_are_not_kept_and_the_budget_drops_the_least_recently_used() -> None:
    kept = KeptStates(max_bytes=300, min_bytes=100)
    small, a, b, c = (new_invoice("SENT") for _ in range(4))
    kept.loaded(small, 99)
    assert kept.entry(small.id) is None
    for invoice in (a, b):
        kept.loaded(invoice, 100)
    assert kept.entry(a.id) is not None  # used: b is now the least recent
    kept.loaded(c, 150)
    assert kept.entry(b.id) is None
    assert kept.entry(a.id) is not None and kept.entry(c.id) is not None


def test_each_aggregate_handed_out_is_a_copy_and_only_commits_move_what_is_kept() -> None:
    kept = KeptStates(min_bytes=1)
    invoice = paid(new_invoice("SENT"))
    kept.loaded(invoice, 1)
    entry = kept.entry(invoice.id)
    assert entry is not None
    first = entry.aggregate()
    paid(first)  # a command's change, not (yet) committed
    again = entry.aggregate()
    assert len(again.payments) == 1 and again.version == invoice.version
    assert again.pending_events == []
    kept.saved([first])  # committed: kept at its new version
    newer = kept.entry(invoice.id)
    assert newer is not None and newer.version == first.version
    assert len(newer.aggregate().payments) == 2
    kept.loaded(again, 1)  # an older version read later never replaces a newer one
    assert kept.entry(invoice.id).version == first.version  # type: ignore[union-attr]
