"""The events feed: each account's events in commit order, each carrying its resource
as it stood right after the change, in the API's shape.

Rows are written with the events (inline), so the feed, webhooks and as-of reads see a
change as soon as its response does. Like the audit chain, a row is a fact: it is
written once and never changed, and a rebuild does not delete it. Events stored before
the feed existed get their rows when the projector follows the log (`apply_batch`),
from the aggregate as it stood at that version. An invoice's rows from its 16th
payment on hold it without its payments, which reads put back (feed_payments.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import Notification

from application.ports import Page, SqlCursor, SqlDatabase
from domain.invoice import Invoice
from projections import cursors, feed_payments
from projections.aggregate_view import Seq
from projections.audit_batch import counted_whole, insert_rows
from projections.audit_chain import aggregate_name
from projections.audit_view import snake
from projections.invoices_view import InvoicesView, as_of_day
from projections.name_ids import NameIds
from projections.plans import run_plan
from projections.stored_time import timestamp

EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/event")
# `str(uuid5(EVENT_NAMESPACE, "<entity>:<version>"))`: each event's id in the feed
event_id = NameIds(EVENT_NAMESPACE)
COLUMNS = ("seq", "id", "account_id", "type", "created_at", "entity_type", "entity_id", "body")
Shape = Callable[[Any], bytes]
_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True)
class FeedFilter:
    types: tuple[str, ...] = ()  # exact types; `invoice.*` matches a whole resource
    entity_id: str | None = None
    created_from: str | None = None  # stored timestamp text (see `timestamp`)
    created_to: str | None = None


class _Object(msgspec.Struct):
    object: msgspec.Raw


class _Event(msgspec.Struct):
    data: _Object


def event_type(event: Any, after: Any) -> str:
    """`<entityType>.<what happened>`; a payment is `invoice.paid` when it settles the
    invoice and `invoice.partially_paid` when an amount stays due."""
    entity = snake(aggregate_name(event))
    happened = snake(type(event).__name__)
    if entity == "invoice" and happened == "payment_recorded":
        happened = "paid" if after.status == "PAID" else "partially_paid"
    return f"{entity}.{happened}"


class EventsFeed:
    table = "view_events"
    tables: Sequence[str] = ()  # facts: a rebuild keeps them
    dialect = "sqlite"  # set by create_statements: batched inserts differ by database

    def __init__(
        self,
        shapes: Mapping[type, Shape],
        state_at: Callable[[UUID, int], Any],
        past_invoice: Shape,
        invoices_table: str = InvoicesView.table,
    ):
        self.shapes = shapes  # aggregate class -> its document
        self._shapes_by_event: dict[type, Shape | None] = {}  # found once per event class
        self.state_at = state_at  # the aggregate as it stood at a version (backfill)
        # Invoices with many payments keep them in their own row only (feed_payments.py);
        # the invoice at the row's version, shaped as `past_invoice` (Documents port)
        # shapes it, serves when that row cannot.
        self.payments = feed_payments.FeedPayments(
            invoices_table, lambda ident, version: past_invoice(state_at(ident, version))
        )

    def bodies(self, db: SqlDatabase, account_id: str, texts: Sequence[str]) -> list[bytes]:
        """Stored bodies of one account's rows as the API gives them."""
        return self.payments.bodies(db, account_id, texts)

    def create_statements(self, dialect: str) -> list[str]:
        self.dialect = dialect
        t = self.table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
            "account_id TEXT NOT NULL, type TEXT NOT NULL, created_at TEXT NOT NULL, "
            "entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, body TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_account ON {t} (account_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_entity ON {t} (account_id, entity_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {t}_type ON {t} (account_id, type, seq)",
        ]

    def row(self, seq: int, event: Any, after: Any, document: bytes) -> tuple[Any, ...]:
        """The feed row of `event`, given the aggregate right after it and its document."""
        return (seq, *self.body(event, after, document))

    def body(self, event: Any, after: Any, document: bytes) -> tuple[Any, ...]:
        """The row's columns after `seq` (which is known only once the event is stored)."""
        entity_id = str(event.originator_id)
        meta = getattr(event, "meta", None) or {}
        ident = event_id(entity_id, event.originator_version)
        kind = event_type(event, after)
        created = timestamp(event.timestamp)
        entity_type = snake(aggregate_name(event))
        elided = None
        if isinstance(after, Invoice):  # overdue as of the change
            day = event.timestamp.astimezone(UTC).date()
            document = as_of_day(document, after.status, after.due_date.isoformat(), day)
            elided = feed_payments.elide(document, len(after.payments))
            document = elided.document if elided else document
        body = _ENCODER.encode(
            {
                "id": ident,
                "type": kind,
                "createdAt": created,
                "entityType": entity_type,
                "entityId": entity_id,
                "data": {"object": msgspec.Raw(document)},
                "actor": {
                    "type": meta.get("actorType") or "system",
                    "id": meta.get("actorId"),
                    "name": meta.get("actorName"),
                },
                "requestId": meta.get("requestId"),
            }
        )
        account = str(after.account_id)
        if elided is not None:  # its payments are read from the invoice's row
            text = feed_payments.marked(body, elided, event.originator_version, entity_id)
        else:
            text = body.decode()
        return (ident, account, kind, created, entity_type, entity_id, text)

    def insert(self, cur: SqlCursor, dialect: str, rows: Sequence[tuple[Any, ...]]) -> None:
        insert_rows(cur, dialect, self.table, COLUMNS, rows, "ON CONFLICT (seq) DO NOTHING")

    def insert_saved(self, cur: SqlCursor, rows: Sequence[tuple[Seq, tuple[Any, ...]]]) -> None:
        """A save's rows: each `seq` as SQL and its parameters, then the `body` columns."""
        if not rows:
            return
        rest = ", ?" * (len(COLUMNS) - 1)
        values = ", ".join(f"({seq}{rest})" for (seq, _), _ in rows)
        cur.execute(
            f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES {values} "
            "ON CONFLICT (seq) DO NOTHING",
            [v for (_, params), body in rows for v in (*params, *body)],
        )

    # Following the log: rows for events stored before the feed existed.

    def prepare(self, cur: SqlCursor, batch: Sequence[tuple[Notification, Any]]) -> set[int]:
        """The events of the batch that have their rows. A large batch is counted first:
        only events the feed shows ever have rows (saves write them for the same
        resources), so as many rows as such events means each has its own (a rebuild
        passing events saved with theirs), known without reading them."""
        if not batch:
            return set()
        shown = {n.id for n, event in batch if self._shape_of(event) is not None}
        if counted_whole(cur, self.table, batch, len(shown)):
            return shown
        cur.execute(
            f"SELECT seq FROM {self.table} WHERE seq >= ? AND seq <= ?",
            (batch[0][0].id, batch[-1][0].id),
        )
        return {int(r[0]) for r in cur.fetchall()}

    def apply_batch(
        self,
        cur: SqlCursor,
        batch: Sequence[tuple[Notification, Any]],
        after: int,
        written: set[int],
    ) -> None:
        rows = []
        for notification, event in batch:
            if notification.id <= after or notification.id in written:
                continue
            shape = self._shape_of(event)
            if shape is None:
                continue
            state = self.state_at(event.originator_id, event.originator_version)
            rows.append(self.row(notification.id, event, state, shape(state)))
        self.insert(cur, self.dialect, rows)

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        batch = [(notification, event)]
        self.apply_batch(cur, batch, notification.id - 1, self.prepare(cur, batch))

    def _shape_of(self, event: Any) -> Shape | None:
        kind = type(event)
        if kind not in self._shapes_by_event:
            self._shapes_by_event[kind] = next(
                (
                    shape
                    for cls, shape in self.shapes.items()
                    if issubclass(kind, cls.Event)  # type: ignore[attr-defined]
                ),
                None,
            )
        return self._shapes_by_event[kind]

    # Reads.

    def page(
        self, db: SqlDatabase, account_id: UUID, where: FeedFilter, limit: int, cursor: str | None
    ) -> Page:
        """A page of event bodies, oldest first."""
        sql, params = self._where(f"SELECT body, seq FROM {self.table}", account_id, where)
        rows, next_cursor = run_plan(
            db,
            cursors.seq_rows(
                sql, params, limit, cursor, "events", seq_column=1, newest_first=False
            ),
        )
        # A follower keeps the cursor after the last event even when it is caught up.
        after = cursors.encode("events", rows[-1][1]) if rows else cursor
        bodies = self.bodies(db, str(account_id), [str(r[0]) for r in rows])
        return Page(bodies, after, has_more=next_cursor is not None)

    def count(
        self, db: SqlDatabase, account_id: UUID, where: FeedFilter, cursor: str | None
    ) -> int:
        sql, params = self._where(f"SELECT COUNT(*) FROM {self.table}", account_id, where)
        if cursor:
            (seq,) = cursors.decode("events", cursor, (int,))
            sql += " AND seq > ?"
            params.append(seq)
        row = db.statement(sql, params)
        return int(row[0]) if row else 0

    def cursor_after(self, db: SqlDatabase, account_id: UUID, event_id: str) -> str | None:
        """The cursor of the page that starts right after this event."""
        row = db.statement(
            f"SELECT seq FROM {self.table} WHERE id = ? AND account_id = ?",
            (event_id, str(account_id)),
        )
        return None if row is None else cursors.encode("events", int(row[0]))

    def _where(self, select: str, account_id: UUID, where: FeedFilter) -> tuple[str, list[Any]]:
        sql = f"{select} WHERE account_id = ?"
        params: list[Any] = [str(account_id)]
        exact = [t for t in where.types if not t.endswith(".*")]
        prefixes = [t[:-2] for t in where.types if t.endswith(".*")]
        if where.types:
            tests = []
            if exact:
                tests.append(f"type IN ({', '.join('?' for _ in exact)})")
                params += exact
            for prefix in prefixes:
                tests.append("entity_type = ?")
                params.append(prefix)
            sql += f" AND ({' OR '.join(tests)})"
        more, values = cursors.conditions(
            ("entity_id", "=", where.entity_id),
            ("created_at", ">=", where.created_from),
            ("created_at", "<=", where.created_to),
        )
        return sql + more, params + values

    def as_of(
        self, db: SqlDatabase, account_id: UUID, entity_type: str, entity_id: UUID, at: str
    ) -> bytes | None:
        """The resource's document right after its last event at or before `at`
        (stored timestamp text), or None if it did not exist yet."""
        row = db.statement(
            f"SELECT body FROM {self.table} WHERE account_id = ? AND entity_id = ? "
            "AND entity_type = ? AND created_at <= ? ORDER BY seq DESC LIMIT 1",
            (str(account_id), str(entity_id), entity_type, at),
        )
        if row is None:
            return None
        (body,) = self.bodies(db, str(account_id), [str(row[0])])
        return bytes(msgspec.json.decode(body, type=_Event).data.object)
