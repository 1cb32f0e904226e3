"""The client list: newest first, searchable by name, company or email."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Notification

from application.ports import Page, SqlCursor
from domain.client import Client
from projections import cursors
from projections.aggregate_view import AggregateView, Seq, blob_type, document_column
from projections.plans import Plan


def like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ClientsView(AggregateView):
    table = "view_clients"
    layout = 2  # 2: the API document
    aggregate_class = Client
    aggregate_event = Client.Event
    columns = ("account_id", "name_lc", "company_lc", "email_lc")
    archived_table = "view_clients_archived"

    def create_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "id TEXT PRIMARY KEY, seq BIGINT NOT NULL, version INTEGER NOT NULL, "
            f"state {blob_type(dialect)} NOT NULL, account_id TEXT NOT NULL, "
            "name_lc TEXT NOT NULL, company_lc TEXT, email_lc TEXT"
            f"{document_column(self, dialect)})",
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

    def upsert(self, cur: SqlCursor, aggregate: Any, seq: Seq, row: tuple[Any, ...]) -> None:
        super().upsert(cur, aggregate, seq, row)
        if aggregate.archived_at is not None:
            cur.execute(
                f"INSERT INTO {self.archived_table} (id, account_id) VALUES (?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (str(aggregate.id), str(aggregate.account_id)),
            )

    def page(
        self,
        account_id: UUID,
        search: str | None,
        limit: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Plan[Page]:
        sql = f"SELECT document, seq FROM {self.table} WHERE account_id = ?"
        params: list[Any] = [str(account_id)]
        if not include_archived:
            sql += f" AND id NOT IN (SELECT id FROM {self.archived_table} WHERE account_id = ?)"
            params.append(str(account_id))
        if search:
            pattern = like_pattern(search)
            sql += (
                " AND (name_lc LIKE ? ESCAPE '\\' OR company_lc LIKE ? ESCAPE '\\'"
                " OR email_lc LIKE ? ESCAPE '\\')"
            )
            params += [pattern, pattern, pattern]
        rows, next_cursor = yield from cursors.seq_rows(
            sql, params, limit, cursor, "clients", seq_column=1
        )
        return Page([bytes(r[0]) for r in rows], next_cursor)


class ArchivedClientsView:
    """The ids of archived clients, which lists leave out unless asked. A view of its own,
    so that a store made before archiving existed catches up from its first event."""

    table = ClientsView.archived_table

    def __init__(self) -> None:
        self.tables: Sequence[str] = (self.table,)

    def create_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table} "
            "(id TEXT PRIMARY KEY, account_id TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.table}_account ON {self.table} (account_id)",
        ]

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        if isinstance(event, Client.Event) and type(event).__qualname__ == "Client.Archived":
            cur.execute(
                f"INSERT INTO {self.table} (id, account_id) VALUES (?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (str(event.originator_id), str(cast(Any, event).account_id)),
            )
