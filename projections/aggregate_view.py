"""A view table with one row per aggregate: indexed columns plus the aggregate's state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.persistence import Notification

from application.ports import SqlCursor
from projections.plans import Plan, Query
from projections.state import StateCodec

# A notification id as SQL and its parameters: `("?", (id,))` once known, or a lookup
# of the event's row while its insert is still on its way in the same pipeline.
Seq = tuple[str, tuple[Any, ...]]


class IncompleteRow(RuntimeError):
    """A row that cannot give its aggregate's state whole (a block kept beside it is
    missing, see projections/invoice_payments.py); the event store can."""

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(f"the row of {aggregate_id} cannot give its state whole")


class AggregateView:
    """Subclasses name the table, the aggregate class and the indexed columns; a view
    given a `shape` also keeps the resource's API document in a `document` column.

    `layout` counts changes to the row's columns: a store whose rows have an older
    layout drops them and fills them again from the events when it is opened."""

    table: ClassVar[str]
    aggregate_class: ClassVar[type]
    aggregate_event: ClassVar[type]
    columns: ClassVar[tuple[str, ...]]
    layout: ClassVar[int] = 1

    def __init__(self, codec: StateCodec, shape: Callable[[Any], bytes] | None = None) -> None:
        self.codec = codec
        self.shape = shape
        self.tables: Sequence[str] = (self.table,)
        self.names: tuple[str, ...] = (*self.columns, "document") if shape else self.columns
        self.state_sql = "state"  # SQL for the whole state in a read of the row
        self.complete_sql = "1"  # SQL: 1 if the row can give its state whole, else 0

    def row_values(self, aggregate: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def rebuilding_statements(self, dialect: str) -> list[str]:
        """Run first in each transaction of a rebuild that writes these rows."""
        return []

    def rebuilt_statements(self, dialect: str) -> list[str]:
        """Run once a rebuild has written every view, under every view's lock."""
        return []

    def row(self, aggregate: Any, document: bytes | None = None) -> tuple[Any, ...]:
        """(version, state, *columns in the order of `names`): what the aggregate's row
        holds after `id` and `seq`; `document` if it is shaped already."""
        columns = self.row_values(aggregate)
        if self.shape is not None:
            columns = (*columns, document or self.shape(aggregate))
        return (aggregate.version, self.codec.dump(aggregate), *columns)

    def state_size(self, aggregate: Any, row: tuple[Any, ...]) -> int:
        """About how many bytes the aggregate's whole state takes, given its `row`."""
        return len(row[1])

    def parts(
        self, aggregate: Any, added: int, document: bytes | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows kept beside the aggregate's row that a write of it adds, once `added`
        events have been applied to it since its row was last written."""
        return []

    def write_parts(self, cur: SqlCursor, parts: list[tuple[Any, ...]]) -> None:
        """Insert `parts` (see `parts`), each once."""

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        if not isinstance(event, self.aggregate_event):
            return
        event = cast(Any, event)
        aggregate_id = event.originator_id
        cur.execute(
            f"SELECT version, {self.state_sql} FROM {self.table} WHERE id = ?",
            (str(aggregate_id),),
        )
        row = cur.fetchone()
        if row is not None and row[0] >= event.originator_version:
            return  # already applied
        if row is not None and row[1] is None:
            # Its blocks are not all there: a rebuild writes the row whole again.
            raise IncompleteRow(aggregate_id)
        current = None if row is None else self.codec.load(aggregate_id, row[0], row[1])
        aggregate = event.mutate(current)
        values = self.row(aggregate)
        self.write_parts(cur, self.parts(aggregate, 1))
        names = ("version", "state", *self.names)
        if row is None:
            placeholders = ", ".join("?" for _ in range(len(names) + 2))
            cur.execute(
                f"INSERT INTO {self.table} (id, seq, {', '.join(names)}) VALUES ({placeholders})",
                (str(aggregate_id), notification.id, *values),
            )
        else:
            assignments = ", ".join(f"{name} = ?" for name in names)
            cur.execute(
                f"UPDATE {self.table} SET {assignments} WHERE id = ?",
                (*values, str(aggregate_id)),
            )

    def upsert(self, cur: SqlCursor, aggregate: Any, seq: Seq, row: tuple[Any, ...]) -> None:
        """Write the aggregate's `row` (see `row`) as it now stands, inline with its
        events. `seq` counts only for a new row; an older version never overwrites a
        newer one."""
        names = ("version", "state", *self.names)
        seq_sql, seq_params = seq
        marks = ", ".join(("?", seq_sql, *("?" for _ in names)))
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names)
        cur.execute(
            f"INSERT INTO {self.table} (id, seq, {', '.join(names)}) VALUES ({marks}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates} "
            f"WHERE {self.table}.version < EXCLUDED.version",
            (str(aggregate.id), *seq_params, *row),
        )

    def document(self, account_id: UUID, obj_id: UUID) -> Plan[bytes | None]:
        """The stored document if the row exists and belongs to this account, else None."""
        rows = yield Query(
            f"SELECT document FROM {self.table} WHERE id = ? AND account_id = ?",
            (str(obj_id), str(account_id)),
        )
        return bytes(rows[0][0]) if rows else None

    def load_rows(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Aggregates from (id, version, state) rows."""
        return [self.codec.load(UUID(r[0]), r[1], r[2]) for r in rows]


class AccountKeyedView(AggregateView):
    """A view whose one indexed column is the account that owns the aggregate."""

    columns = ("account_id",)

    def create_statements(self, dialect: str) -> list[str]:
        return state_table(self.table, dialect, "account_id TEXT NOT NULL")

    def row_values(self, aggregate: Any) -> tuple[Any, ...]:
        return (str(aggregate.account_id),)


def blob_type(dialect: str) -> str:
    return "BYTEA" if dialect == "postgresql" else "BLOB"


def state_table(name: str, dialect: str, columns: str) -> list[str]:
    """A view table of (id, seq, version, state) and `columns`, indexed by seq."""
    return [
        f"CREATE TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
        f"version INTEGER NOT NULL, state {blob_type(dialect)} NOT NULL, {columns})",
        f"CREATE INDEX IF NOT EXISTS {name}_seq ON {name} (seq)",
    ]


def document_column(view: AggregateView, dialect: str) -> str:
    """The `document` column's definition, for a view that keeps documents."""
    return f", document {blob_type(dialect)} NOT NULL" if view.shape else ""


def name_of(view: Any) -> str:
    """The view's name in the projection tracking table (with its layout, if changed)."""
    layout = getattr(view, "layout", 1)
    return type(view).__name__ + (f".v{layout}" if layout > 1 else "")
