"""Whether an account owns an id, read from the views by (account, id) before any replay.

Another account's id and an id that never existed take the same path and cost the same:
one indexed lookup that finds nothing, a catch-up check, and a second lookup. Only ids
the account owns go on to load (and replay) their aggregate.
"""

from __future__ import annotations

from uuid import UUID

from application.ports import SqlDatabase
from domain.client import Client
from domain.invoice import Invoice
from domain.recurring import RecurringInvoice
from projections.clients_view import ClientsView
from projections.invoices_view import InvoicesView
from projections.projector import Projector
from projections.recurring_view import RecurringView

TABLES: dict[type, str] = {
    Client: ClientsView.table,
    Invoice: InvoicesView.table,
    RecurringInvoice: RecurringView.table,
}


class OwnerLookup:
    def __init__(self, db: SqlDatabase, projector: Projector) -> None:
        self.db = db
        self.projector = projector

    def owns(self, cls: type, account_id: UUID, obj_id: UUID) -> bool | None:
        """True or False for the kinds the views hold; None for any other kind."""
        table = TABLES.get(cls)
        if table is None:
            return None
        if self._found(table, account_id, obj_id):
            return True
        # A row committed a moment ago by another process (or whose catch-up failed after
        # its commit) may not be in the view yet: catch up once, then look again.
        self.projector.catch_up()
        return self._found(table, account_id, obj_id)

    def _found(self, table: str, account_id: UUID, obj_id: UUID) -> bool:
        row = self.db.statement(
            f"SELECT 1 FROM {table} WHERE id = ? AND account_id = ?",
            (str(obj_id), str(account_id)),
        )
        return row is not None
