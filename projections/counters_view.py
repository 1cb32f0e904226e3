"""Each account's invoice counter as a row, so numbering reads it in one indexed lookup
instead of a snapshot and the events after it (an inline view: written with them)."""

from __future__ import annotations

from domain.numbering import InvoiceCounter
from projections.aggregate_view import AccountKeyedView


class CountersView(AccountKeyedView):
    table = "view_counters"
    aggregate_class = InvoiceCounter
    aggregate_event = InvoiceCounter.Event
