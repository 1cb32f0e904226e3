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
    kept = KeptStates(max_bytes=1000, min_bytes=100)
    small, a, b, c, d, e = (new_invoice("SENT") for _ in range(6))
    kept.loaded(small, 99)
    assert kept.entry(small.id) is None
    for invoice in (a, b, c, d):
        kept.loaded(invoice, 250)
    assert kept.entry(a.id) is not None  # used: b is now the least recent
    kept.loaded(e, 250)
    assert kept.entry(b.id) is None
    assert all(kept.entry(i.id) is not None for i in (a, c, d, e))


def test_each_aggregate_handed_out_is_a_copy_and_only_commits_move_what_is_kept() -> None:
    kept = KeptStates(min_bytes=1)
    invoice = paid(new_invoice("SENT"))
    kept.loaded(invoice, 1)
    entry = kept.entry(invoice.id)
    assert entry is not None
    first = kept.handed_out(entry)
    paid(first)  # a command's change, not (yet) committed
    again = kept.handed_out(entry)
    assert len(again.payments) == 1 and again.version == invoice.version
    assert again.pending_events == []
    kept.saved([first], {first.id: 2})  # committed: kept at its new version
    newer = kept.entry(invoice.id)
    assert newer is not None and newer.version == first.version and newer.size == 2
    assert len(newer.aggregate().payments) == 2
    kept.loaded(again, 1)  # an older version read later never replaces a newer one
    assert kept.entry(invoice.id).version == first.version  # type: ignore[union-attr]


def test_a_save_of_an_aggregate_not_handed_out_from_a_row_is_not_kept() -> None:
    """A retry loads from the event store, whose snapshots give lists for tuples: its
    save leaves the kept state as it was (the next load reads the row)."""
    kept = KeptStates(min_bytes=1)
    invoice = paid(new_invoice("SENT"))
    kept.loaded(invoice, 1)
    from_store = paid(new_invoice("SENT"))
    object.__setattr__(from_store, "_id", invoice.id)
    kept.saved([from_store], {invoice.id: 1})
    assert kept.entry(invoice.id).version == invoice.version  # type: ignore[union-attr]


def test_a_state_larger_than_a_quarter_of_the_budget_is_not_kept() -> None:
    kept = KeptStates(max_bytes=400, min_bytes=1)
    small, large = new_invoice("SENT"), new_invoice("SENT")
    kept.loaded(small, 100)
    kept.loaded(large, 101)
    assert kept.entry(large.id) is None and kept.entry(small.id) is not None
