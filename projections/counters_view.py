"""Each account's invoice counter as a row, so numbering reads it in one indexed lookup
instead of a snapshot and the events after it (an inline view: written with them)."""

from __future__ import annotations

from typing import Any

from domain.numbering import InvoiceCounter
from projections.aggregate_view import AggregateView, state_table


class CountersView(AggregateView):
    table = "view_counters"
    aggregate_class = InvoiceCounter
    aggregate_event = InvoiceCounter.Event
    columns = ("account_id",)

    def create_statements(self, dialect: str) -> list[str]:
        return state_table(self.table, dialect, "account_id TEXT NOT NULL")

    def row_values(self, counter: Any) -> tuple[Any, ...]:
        return (str(counter.account_id),)
