"""The invoice list (newest first, with filters) and the outstanding invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from application.ports import InvoiceFilter, Page, SqlDatabase
from domain import money
from domain.invoice import OPEN_STATUSES, Invoice
from projections import cursors
from projections.aggregate_view import AggregateView, blob_type

OPEN = f"status IN ('{OPEN_STATUSES[0]}', '{OPEN_STATUSES[1]}')"


class InvoicesView(AggregateView):
    table = "view_invoices"
    aggregate_class = Invoice
    aggregate_event = Invoice.Event
    columns = (
        "account_id",
        "client_id",
        "status",
        "issue_date",
        "due_date",
        "currency",
        "amount_due_minor",
    )

    def create_statements(self, dialect: str) -> list[str]:
        t = self.table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "id TEXT PRIMARY KEY, seq BIGINT NOT NULL, version INTEGER NOT NULL, "
            f"state {blob_type(dialect)} NOT NULL, account_id TEXT NOT NULL, "
            "client_id TEXT NOT NULL, status TEXT NOT NULL, issue_date TEXT NOT NULL, "
            "due_date TEXT NOT NULL, currency TEXT NOT NULL, amount_due_minor BIGINT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_seq ON {t} (account_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_status ON {t} (account_id, status, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_client ON {t} (account_id, client_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_outstanding ON {t} (account_id, due_date, seq) "
            f"WHERE {OPEN} AND amount_due_minor > 0",
        ]

    def row_values(self, invoice: Any) -> tuple[Any, ...]:
        return (
            str(invoice.account_id),
            str(invoice.client_id),
            invoice.status,
            invoice.issue_date.isoformat(),
            invoice.due_date.isoformat(),
            invoice.currency,
            money.to_minor(invoice.totals.amount_due, invoice.currency),
        )

    def page(
        self,
        db: SqlDatabase,
        account_id: UUID,
        where: InvoiceFilter,
        limit: int,
        cursor: str | None,
    ) -> Page:
        sql = f"SELECT id, version, state, seq FROM {self.table} WHERE account_id = ?"
        params: list[Any] = [str(account_id)]
        if where.overdue_on is not None:
            sql += f" AND {OPEN} AND due_date < ?"
            params.append(where.overdue_on.isoformat())
        elif where.status:
            sql += " AND status = ?"
            params.append(where.status)
        for column, op, value in (
            ("client_id", "=", where.client_id),
            ("issue_date", ">=", where.issue_date_from),
            ("issue_date", "<=", where.issue_date_to),
            ("due_date", ">=", where.due_date_from),
            ("due_date", "<=", where.due_date_to),
        ):
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(str(value))
        rows, next_cursor = cursors.seq_page(
            db, sql, params, limit, cursor, "invoices", seq_column=3
        )
        return Page(self.load_rows(rows), next_cursor)

    def outstanding_page(
        self, db: SqlDatabase, account_id: UUID, limit: int, cursor: str | None
    ) -> Page:
        sql = (
            f"SELECT id, version, state, seq, due_date FROM {self.table} "
            f"WHERE account_id = ? AND {OPEN} AND amount_due_minor > 0"
        )
        params: list[Any] = [str(account_id)]
        if cursor:
            due, seq = cursors.decode("outstanding", cursor, (str, int))
            sql += " AND (due_date > ? OR (due_date = ? AND seq > ?))"
            params += [due, due, seq]
        sql += " ORDER BY due_date ASC, seq ASC LIMIT ?"
        params.append(limit + 1)
        rows = self._fetch(db, sql, params)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursors.encode("outstanding", rows[-1][4], rows[-1][3]) if more else None
        return Page(self.load_rows(rows), next_cursor)

    def outstanding_summary(
        self, db: SqlDatabase, account_id: UUID
    ) -> tuple[int, dict[str, Decimal]]:
        sql = (
            f"SELECT currency, COUNT(*), SUM(amount_due_minor) FROM {self.table} "
            f"WHERE account_id = ? AND {OPEN} AND amount_due_minor > 0 "
            "GROUP BY currency ORDER BY currency"
        )
        rows = self._fetch(db, sql, [str(account_id)])
        count = sum(int(r[1]) for r in rows)
        totals = {r[0]: money.from_minor(int(r[2]), r[0]) for r in rows}
        return count, totals

    @staticmethod
    def _fetch(db: SqlDatabase, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with db.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
