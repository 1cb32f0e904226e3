"""The invoice list (newest first, with filters) and the outstanding invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

import msgspec

from application.ports import Documents, InvoiceFilter, Page, SqlCursor
from domain import money
from domain.invoice import Invoice, overdue
from projections import cursors, invoice_payments
from projections.aggregate_view import AggregateView, blob_type, document_column
from projections.outstanding_totals import (
    SKIP_IN_TRANSACTION,
    TOTALS,
    is_open,
    owing,
    recount_statements,
    totals_statements,
)
from projections.plans import Blocking, Plan, Query
from projections.state import StateCodec

# Documents are shaped with `isOverdue` false; a read sets it for the day it is read.
# JSON escapes every quote inside a string, so this text occurs only as the field.
NOT_OVERDUE, OVERDUE = b'"isOverdue":false', b'"isOverdue":true'


def as_of_day(document: bytes, status: str, due_date: str, today: date) -> bytes:
    """The stored document with `isOverdue` as of `today` (`due_date` in ISO form)."""
    if overdue(status, date.fromisoformat(due_date), today):
        return bytes(document).replace(NOT_OVERDUE, OVERDUE, 1)
    return bytes(document)


class _Dates(msgspec.Struct, rename="camel"):
    status: str
    due_date: str


def invoice_on_day(document: bytes, day: date) -> bytes:
    """A document read from elsewhere (the events feed) with `isOverdue` as of `day`."""
    fields = msgspec.json.decode(document, type=_Dates)
    return as_of_day(document, fields.status, fields.due_date[:10], day)


class InvoicesView(AggregateView):
    """Invoice rows, and per account and currency the open invoices' count and amount
    due (`view_outstanding`), kept by triggers on every write to the rows: inline,
    followed, rebuilt or refilled alike, so the outstanding summary reads a row per
    currency however many invoices an account has."""

    table = "view_invoices"
    layout = 4  # 2: the API document; 3: the outstanding totals; 4: payments in blocks
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
        "payments_out",  # the first payments, kept in blocks (see invoice_payments)
    )

    def create_statements(self, dialect: str) -> list[str]:
        t = self.table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "id TEXT PRIMARY KEY, seq BIGINT NOT NULL, version INTEGER NOT NULL, "
            f"state {blob_type(dialect)} NOT NULL, account_id TEXT NOT NULL, "
            "client_id TEXT NOT NULL, status TEXT NOT NULL, issue_date TEXT NOT NULL, "
            "due_date TEXT NOT NULL, currency TEXT NOT NULL, amount_due_minor BIGINT NOT NULL, "
            f"payments_out INTEGER NOT NULL{document_column(self, dialect)})",
            f"CREATE INDEX IF NOT EXISTS {t}_account_seq ON {t} (account_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_status ON {t} (account_id, status, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_client ON {t} (account_id, client_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_outstanding ON {t} (account_id, due_date, seq) "
            f"WHERE {owing()}",
            *totals_statements(t, dialect),
            *invoice_payments.create_statements(blob_type(dialect)),
        ]

    def __init__(
        self,
        codec: StateCodec,
        documents: Documents | None = None,
        dialect: str = "sqlite",
        stored: Callable[[UUID], Any] | None = None,
    ) -> None:
        super().__init__(codec, documents.invoice if documents else None)
        self.documents = documents
        # The invoice from the event store, for a row whose blocks are not all there
        # (written while a rebuild refilled them; its next save writes them all).
        self.stored = stored
        # Totals first: emptied before the rows.
        self.tables = (TOTALS, self.table, invoice_payments.TABLE)
        self.state_sql = invoice_payments.whole_sql(self.table, "state", dialect, typed_only=True)
        self.complete_sql = invoice_payments.complete_sql(self.table)

    def rebuilding_statements(self, dialect: str) -> list[str]:
        # PostgreSQL's trigger can be told to skip a transaction; SQLite's cannot.
        return [SKIP_IN_TRANSACTION] if dialect == "postgresql" else []

    def rebuilt_statements(self, dialect: str) -> list[str]:
        return recount_statements(self.table) if dialect == "postgresql" else []

    def row_values(self, invoice: Any) -> tuple[Any, ...]:
        return (
            str(invoice.account_id),
            str(invoice.client_id),
            invoice.status,
            invoice.issue_date.isoformat(),
            invoice.due_date.isoformat(),
            invoice.currency,
            money.to_minor(invoice.totals.amount_due, invoice.currency),
            self.moved(invoice),
        )

    def moved(self, invoice: Any) -> int:
        """How many of the invoice's payments its row leaves to blocks (only a view
        that keeps documents has blocks)."""
        return invoice_payments.moved(len(invoice.payments)) if self.documents else 0

    def row(self, aggregate: Any, document: bytes | None = None) -> tuple[Any, ...]:
        """The row without the payments its blocks hold (see invoice_payments)."""
        out = self.moved(aggregate)
        columns = self.row_values(aggregate)
        if self.documents is not None:
            head = self.documents.invoice_without(aggregate, out) if out else None
            columns = (*columns, head or document or self.documents.invoice(aggregate))
        return (aggregate.version, self.codec.dump(aggregate, skip=out), *columns)

    def state_size(self, aggregate: Any, row: tuple[Any, ...]) -> int:
        # About what the state takes whole: the payments in blocks, each about the
        # size of the last.
        out = self.moved(aggregate)
        if out == 0 or not row[1].startswith(b'["'):
            return len(row[1])
        last = self.codec.items(Invoice, "payments", aggregate.payments[-1:])
        return len(row[1]) + out * (len(last) + 1)

    def parts(
        self, aggregate: Any, added: int, document: bytes | None = None
    ) -> list[tuple[Any, ...]]:
        payments, shape = aggregate.payments, self.shape
        if self.moved(aggregate) == 0 or shape is None:
            return []
        return invoice_payments.block_rows(
            str(aggregate.id),
            len(payments),
            added,
            lambda start, stop: self.codec.items(Invoice, "payments", payments[start:stop]),
            lambda: document or shape(aggregate),
        )

    def write_parts(self, cur: SqlCursor, parts: list[tuple[Any, ...]]) -> None:
        for part in parts:
            cur.execute(invoice_payments.insert_statement(), part)

    def page(
        self, account_id: UUID, where: InvoiceFilter, limit: int, cursor: str | None, today: date
    ) -> Plan[Page]:
        """A page of documents, newest first."""
        sql = (
            f"SELECT document, status, due_date, seq, id, payments_out FROM {self.table} "
            "WHERE account_id = ?"
        )
        params: list[Any] = [str(account_id)]
        if where.overdue_on is not None:
            sql += f" AND {is_open()} AND due_date < ?"
            params.append(where.overdue_on.isoformat())
        elif where.status:
            sql += " AND status = ?"
            params.append(where.status)
        more, values = cursors.conditions(
            ("client_id", "=", where.client_id),
            ("issue_date", ">=", where.issue_date_from),
            ("issue_date", "<=", where.issue_date_to),
            ("due_date", ">=", where.due_date_from),
            ("due_date", "<=", where.due_date_to),
        )
        sql += more
        params += [str(v) for v in values]
        rows, next_cursor = yield from cursors.seq_rows(
            sql, params, limit, cursor, "invoices", seq_column=3
        )
        documents = yield from self._whole_documents(rows, 4)
        page = [as_of_day(d, r[1], r[2], today) for d, r in zip(documents, rows, strict=True)]
        return Page(page, next_cursor)

    def document_on(self, account_id: UUID, invoice_id: UUID, today: date) -> Plan[bytes | None]:
        """The invoice's document if it exists and belongs to this account, else None."""
        # The row and its blocks in one statement (one round trip, one snapshot). The
        # blocks are used only if the row is found, which is selected by account.
        rows = yield Query(
            f"SELECT 0, document, status, due_date, payments_out FROM {self.table} "
            "WHERE id = ? AND account_id = ? UNION ALL "
            f"SELECT 1, document, NULL, NULL, first_payment FROM {invoice_payments.TABLE} "
            "WHERE invoice_id = ?",
            (str(invoice_id), str(account_id), str(invoice_id)),
        )
        head = [r for r in rows if r[0] == 0]
        if not head:
            return None
        _, document, status, due_date, out = head[0]
        parts = sorted((r[4], bytes(r[1])) for r in rows if r[0] == 1 and r[4] < out)
        whole = invoice_payments.spliced(bytes(document), out, [p for _, p in parts])
        if whole is None:
            whole = yield Blocking(partial(self._replayed, invoice_id))
        return as_of_day(whole, status, due_date, today)

    def _whole_documents(self, rows: list[tuple[Any, ...]], at: int) -> Plan[list[bytes]]:
        """The documents of rows `(document, ..., id, payments_out, ...)` whole, in
        order; `at` is where the id is (the count follows it)."""
        whole = yield from invoice_payments.whole_documents(
            (str(r[at]), r[0], int(r[at + 1])) for r in rows
        )
        found = {key: document for key, document in whole.items() if document is not None}
        missing = [key for key in whole if key not in found]
        if missing:  # replayed together, in one hop off the event loop
            replayed = yield Blocking(partial(self._replayed_all, [UUID(k) for k in missing]))
            found.update(zip(missing, replayed, strict=True))
        return [found[str(r[at])] for r in rows]

    def _replayed_all(self, invoice_ids: list[UUID]) -> list[bytes]:
        return [self._replayed(invoice_id) for invoice_id in invoice_ids]

    def _replayed(self, invoice_id: UUID) -> bytes:
        if self.stored is None or self.documents is None:
            raise RuntimeError(f"invoice {invoice_id} is missing payments kept in blocks")
        return self.documents.past_invoice(self.stored(invoice_id))

    def outstanding(
        self, account_id: UUID, limit: int, cursor: str | None, today: date
    ) -> Plan[tuple[Page, int, dict[str, Decimal]]]:
        """A page of outstanding documents, oldest due first, and the summary over all of
        them, read by one statement (one round trip, one snapshot) so that they agree:
        the page's rows are part 0, the summary's (one per currency) part 1."""
        listed = (
            f"SELECT 0 AS part, document, status, due_date, seq, NULL AS currency, "
            f"CAST(NULL AS BIGINT) AS n, CAST(NULL AS BIGINT) AS due, id, payments_out "
            f"FROM {self.table} "
            f"WHERE account_id = ? AND {owing()}"
        )
        params: list[Any] = [str(account_id)]
        if cursor:
            due, seq = cursors.decode("outstanding", cursor, (str, int))
            listed += " AND (due_date > ? OR (due_date = ? AND seq > ?))"
            params += [due, due, seq]
        listed += " ORDER BY due_date ASC, seq ASC LIMIT ?"
        params.append(limit + 1)
        summary = (
            f"SELECT 1, NULL, NULL, NULL, NULL, currency, invoices, due_minor, NULL, 0 "
            f"FROM {TOTALS} "
            "WHERE account_id = ? AND invoices > 0"
        )
        params.append(str(account_id))
        found = yield Query(
            f"SELECT * FROM ({listed}) AS p UNION ALL {summary} ORDER BY 1, 4, 5, 6", params
        )
        rows = [(*r[1:5], *r[8:10]) for r in found if r[0] == 0]
        sums = [r[5:8] for r in found if r[0] == 1]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursors.encode("outstanding", rows[-1][2], rows[-1][3]) if more else None
        documents = yield from self._whole_documents(rows, 4)
        page = Page(
            [as_of_day(d, r[1], r[2], today) for d, r in zip(documents, rows, strict=True)],
            next_cursor,
        )
        count = sum(int(r[1]) for r in sums)
        totals = {r[0]: money.from_minor(int(r[2]), r[0]) for r in sums}
        return page, count, totals
