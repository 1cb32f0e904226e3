"""The read models the API lists from: inline rows, current with every committed write."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from application.ports import InvoiceFilter, Page, SqlDatabase
from domain.errors import InvalidInput, NotFound
from projections import audit_log
from projections.audit_log import AuditFilter
from projections.clients_view import ClientsView
from projections.directory_view import AccountsView, ApiKeysView
from projections.events_feed import EventsFeed, FeedFilter
from projections.invoices_view import InvoicesView, invoice_on_day
from projections.plans import Plan, planned
from projections.projector import Projector
from projections.recurring_view import RecurringView

# Long enough for any name, company or email; SQLite refuses LIKE patterns beyond 50,000.
MAX_SEARCH = 200
T = TypeVar("T")
# Text no stored value holds and PostgreSQL cannot bind: NUL (and the other controls)
# and lone surrogates, which have no UTF-8 form.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE_MESSAGE = "Must not contain control characters (such as NUL)"


def search_term(raw: str | None) -> str | None:
    """The client search as the list query uses it: stripped, bounded, storable text."""
    term = (raw or "").strip()
    if len(term) > MAX_SEARCH:
        raise InvalidInput.field("search", f"Must be at most {MAX_SEARCH} characters")
    if _UNSTORABLE.search(term):
        raise InvalidInput.field("search", _UNSTORABLE_MESSAGE)
    return term or None


def existing(found: T | None, what: str) -> T:
    """`found`, or a 404 naming `what` (another account's rows are never found)."""
    if found is None:
        raise NotFound(f"{what} not found")
    return found


def check_texts(**values: str | None) -> None:
    """Refuse filter texts that no stored value can equal and PostgreSQL cannot bind."""
    errors = {
        name: [_UNSTORABLE_MESSAGE]
        for name, value in values.items()
        if value is not None and _UNSTORABLE.search(value)
    }
    if errors:
        raise InvalidInput("Validation failed", errors)


class ReadModelQueries:
    def __init__(
        self,
        db: SqlDatabase,
        projector: Projector,
        clients: ClientsView,
        invoices: InvoicesView,
        recurring: RecurringView,
        accounts: AccountsView,
        keys: ApiKeysView,
        feed: EventsFeed,
    ) -> None:
        self.feed = feed
        self.recurring = recurring
        self.accounts = accounts
        self.keys = keys
        self.db = db
        self.projector = projector
        self.clients = clients
        self.invoices = invoices

    @planned
    def list_clients(
        self,
        account_id: UUID,
        search: str | None,
        limit: int,
        cursor: str | None,
        *,
        include_archived: bool = False,
    ) -> Plan[Page]:
        search = search_term(search)
        return (
            yield from self.clients.page(
                account_id, search, limit, cursor, include_archived=include_archived
            )
        )

    @planned
    def list_invoices(
        self, account_id: UUID, where: InvoiceFilter, limit: int, cursor: str | None, today: date
    ) -> Plan[Page]:
        return (yield from self.invoices.page(account_id, where, limit, cursor, today))

    @planned
    def list_outstanding(
        self, account_id: UUID, limit: int, cursor: str | None, today: date
    ) -> Plan[tuple[Page, int, dict[str, Decimal]]]:
        """A page of outstanding invoices and the summary over all of them."""
        return (yield from self.invoices.outstanding(account_id, limit, cursor, today))

    @planned
    def invoice(self, account_id: UUID, invoice_id: UUID, today: date) -> Plan[bytes]:
        found = yield from self.invoices.document_on(account_id, invoice_id, today)
        return existing(found, "Invoice")

    def events(self, account_id: UUID, where: FeedFilter, limit: int, cursor: str | None) -> Page:
        return self.feed.page(self.db, account_id, where, limit, cursor)

    def count_events(self, account_id: UUID, where: FeedFilter, cursor: str | None) -> int:
        return self.feed.count(self.db, account_id, where, cursor)

    def events_cursor(self, account_id: UUID, event_id: str) -> str:
        """A cursor that continues after this event of this account."""
        return existing(self.feed.cursor_after(self.db, account_id, event_id), "Event")

    def invoice_as_of(self, account_id: UUID, invoice_id: UUID, at: str, day: date) -> bytes:
        """The invoice as it stood at `at` (stored timestamp text), overdue as of `day`."""
        found = self.feed.as_of(self.db, account_id, "invoice", invoice_id, at)
        return invoice_on_day(existing(found, "Invoice"), day)

    def client_as_of(self, account_id: UUID, client_id: UUID, at: str) -> bytes:
        return existing(self.feed.as_of(self.db, account_id, "client", client_id, at), "Client")

    @planned
    def client(self, account_id: UUID, client_id: UUID) -> Plan[bytes]:
        found = yield from self.clients.document(account_id, client_id)
        return existing(found, "Client")

    @planned
    def recurring_invoice(self, account_id: UUID, template_id: UUID) -> Plan[bytes]:
        found = yield from self.recurring.document(account_id, template_id)
        return existing(found, "Recurring invoice")

    def list_recurring(self, account_id: UUID, limit: int, cursor: str | None) -> Page:
        return self.recurring.page(self.db, account_id, limit, cursor)

    def due_recurring(self, today: date) -> list[UUID]:
        return self.recurring.due(self.db, today)

    def list_accounts(self) -> list[Any]:
        return self.accounts.all(self.db)

    def keys_of(self, account_id: UUID) -> list[Any]:
        return self.keys.of_account(self.db, account_id)

    def audit_log(
        self, account_id: UUID, where: AuditFilter, limit: int, cursor: str | None
    ) -> Page:
        check_texts(
            entityType=where.entity_type,
            entityId=where.entity_id,
            action=where.action,
            actorId=where.actor_id,
        )
        # The audit log follows the event log; an entry is listed as soon as its change
        # has had a response (only audit reads wait for this).
        self.projector.settle()
        return audit_log.page(self.db, account_id, where, limit, cursor)
