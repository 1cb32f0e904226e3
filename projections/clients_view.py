"""The client list: newest first, searchable by name, company or email."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ports import Page, SqlDatabase
from domain.client import Client
from projections import cursors
from projections.aggregate_view import AggregateView, blob_type


def like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ClientsView(AggregateView):
    table = "view_clients"
    aggregate_event = Client.Event
    columns = ("account_id", "name_lc", "company_lc", "email_lc")

    def create_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "id TEXT PRIMARY KEY, seq BIGINT NOT NULL, version INTEGER NOT NULL, "
            f"state {blob_type(dialect)} NOT NULL, account_id TEXT NOT NULL, "
            "name_lc TEXT NOT NULL, company_lc TEXT, email_lc TEXT)",
            f"CREATE INDEX IF NOT EXISTS {self.table}_account_seq "
            f"ON {self.table} (account_id, seq)",
        ]

    def row_values(self, aggregate: Any) -> tuple[Any, ...]:
        details = aggregate.details
        return (
            str(aggregate.account_id),
            str(details["name"]).lower(),
            (details.get("company") or "").lower() or None,
            (details.get("email") or "").lower() or None,
        )

    def page(
        self, db: SqlDatabase, account_id: UUID, search: str | None, limit: int, cursor: str | None
    ) -> Page:
        sql = f"SELECT id, version, state, seq FROM {self.table} WHERE account_id = ?"
        params: list[Any] = [str(account_id)]
        if search:
            pattern = like_pattern(search)
            sql += (
                " AND (name_lc LIKE ? ESCAPE '\\' OR company_lc LIKE ? ESCAPE '\\'"
                " OR email_lc LIKE ? ESCAPE '\\')"
            )
            params += [pattern, pattern, pattern]
        rows, next_cursor = cursors.seq_page(
            db, sql, params, limit, cursor, "clients", seq_column=3
        )
        return Page(self.load_rows(rows), next_cursor)
