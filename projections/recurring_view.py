"""Recurring invoice templates: the list (newest first) and the ones due to run."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from application.ports import Page, SqlDatabase
from domain.recurring import RecurringInvoice
from projections import cursors
from projections.aggregate_view import AggregateView, blob_type, document_column
from projections.plans import run_plan


class RecurringView(AggregateView):
    table = "view_recurring"
    layout = 2  # 2: the API document
    aggregate_class = RecurringInvoice
    aggregate_event = RecurringInvoice.Event
    columns = ("account_id", "status", "next_run_date")

    def create_statements(self, dialect: str) -> list[str]:
        t = self.table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "id TEXT PRIMARY KEY, seq BIGINT NOT NULL, version INTEGER NOT NULL, "
            f"state {blob_type(dialect)} NOT NULL, account_id TEXT NOT NULL, "
            "status TEXT NOT NULL, next_run_date TEXT"
            f"{document_column(self, dialect)})",
            f"CREATE INDEX IF NOT EXISTS {t}_account_seq ON {t} (account_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_due ON {t} (next_run_date) WHERE status = 'ACTIVE'",
        ]

    def row_values(self, template: Any) -> tuple[Any, ...]:
        upcoming = template.next_run_date
        return (
            str(template.account_id),
            template.status,
            upcoming.isoformat() if upcoming else None,
        )

    def page(self, db: SqlDatabase, account_id: UUID, limit: int, cursor: str | None) -> Page:
        sql = f"SELECT document, seq FROM {self.table} WHERE account_id = ?"
        params: list[Any] = [str(account_id)]
        rows, next_cursor = run_plan(
            db, cursors.seq_rows(sql, params, limit, cursor, "recurring", seq_column=1)
        )
        return Page([bytes(r[0]) for r in rows], next_cursor)

    def due(self, db: SqlDatabase, today: date) -> list[UUID]:
        with db.transaction() as cur:
            cur.execute(
                f"SELECT id FROM {self.table} WHERE status = 'ACTIVE' "
                "AND next_run_date IS NOT NULL AND next_run_date <= ? ORDER BY next_run_date, seq",
                (today.isoformat(),),
            )
            return [UUID(row[0]) for row in cur.fetchall()]
