"""Accounts (for operators) and API keys (for the developer portal)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ports import SqlDatabase
from domain.account import Account, ApiKey
from projections.aggregate_view import AccountKeyedView, AggregateView, state_table


class AccountsView(AggregateView):
    table = "view_accounts"
    aggregate_class = Account
    aggregate_event = Account.Event
    columns = ("name", "plan", "api_access")

    def create_statements(self, dialect: str) -> list[str]:
        return state_table(
            self.table, dialect, "name TEXT NOT NULL, plan TEXT NOT NULL, api_access TEXT NOT NULL"
        )

    def row_values(self, account: Any) -> tuple[Any, ...]:
        return (account.name, account.plan, account.api_access)

    def all(self, db: SqlDatabase) -> list[Any]:
        with db.transaction() as cur:
            cur.execute(f"SELECT id, version, state FROM {self.table} ORDER BY seq")
            return self.load_rows(cur.fetchall())


class ApiKeysView(AccountKeyedView):
    table = "view_api_keys"
    aggregate_class = ApiKey
    aggregate_event = ApiKey.Event

    def create_statements(self, dialect: str) -> list[str]:
        return [
            *super().create_statements(dialect),
            f"CREATE INDEX IF NOT EXISTS {self.table}_account ON {self.table} (account_id, seq)",
        ]

    def of_account(self, db: SqlDatabase, account_id: UUID) -> list[Any]:
        with db.transaction() as cur:
            cur.execute(
                f"SELECT id, version, state FROM {self.table} WHERE account_id = ? "
                "ORDER BY seq DESC",
                (str(account_id),),
            )
            return self.load_rows(cur.fetchall())
