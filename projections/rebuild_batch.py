"""Applies a batch of events to the inline views in memory: each aggregate's row is
read at most once and written once per batch, which is what makes a rebuild fast."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from application.ports import SqlCursor
from projections.aggregate_view import AggregateView, IncompleteRow, name_of
from projections.audit_batch import insert_new_rows, insert_rows

MEMO_SIZE = 20_000  # aggregates kept between batches (bounded: memory stays flat)


def fold_batch(
    cur: SqlCursor,
    views: Sequence[AggregateView],
    positions: dict[str, int],
    events: Sequence[tuple[Notification, Any]],
    memo: dict[UUID, tuple[Any, int]],
    dialect: str = "sqlite",
    stored: Callable[[UUID, int], Any] | None = None,
) -> None:
    """Apply `events` to the rows of `views` that have not seen them. `stored` gives an
    aggregate at a version from the event store, for a row that cannot give it whole
    (see InlineViews)."""
    mine: list[tuple[AggregateView, Notification, Any]] = []
    owners: dict[type, tuple[AggregateView, int] | None] = {}  # by event class
    for notification, event in events:
        kind = type(event)
        if kind not in owners:
            owner = next((v for v in views if isinstance(event, v.aggregate_event)), None)
            owners[kind] = None if owner is None else (owner, positions[name_of(owner)])
        found = owners[kind]
        if found is not None and found[1] < notification.id:
            mine.append((found[0], notification, event))
    if not mine:
        return
    # Events applied to each since its row was written: for one whose row could not
    # give it whole, every event it has had (its next write writes every block).
    applied: Counter[UUID] = Counter(_load_missing(cur, mine, memo, stored))
    touched: dict[UUID, AggregateView] = {}
    created: set[UUID] = set()  # made by this batch: no row of theirs was written
    for view, notification, event in mine:
        aggregate_id = event.originator_id
        aggregate, seq = memo.get(aggregate_id, (None, notification.id))
        if aggregate is None:
            created.add(aggregate_id)
        elif aggregate.version >= event.originator_version:
            continue  # already applied
        memo[aggregate_id] = (event.mutate(aggregate), seq)
        touched[aggregate_id] = view
        applied[aggregate_id] += 1
    # By view, the rows of aggregates made by this batch apart from the others'.
    by_view: dict[str, tuple[AggregateView, list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {}
    for aggregate_id, view in touched.items():
        aggregate, seq = memo[aggregate_id]
        row = (str(aggregate_id), seq, *view.row(aggregate))
        _, new, written = by_view.setdefault(view.table, (view, [], []))
        (new if aggregate_id in created else written).append(row)
        view.write_parts(cur, view.parts(aggregate, applied[aggregate_id]))
    for view, new, written in by_view.values():
        _upsert_rows(cur, dialect, view, new, new=True)
        _upsert_rows(cur, dialect, view, written)
    while len(memo) > MEMO_SIZE:
        del memo[next(iter(memo))]


def _load_missing(
    cur: SqlCursor,
    mine: list[tuple[AggregateView, Notification, Any]],
    memo: dict[UUID, tuple[Any, int]],
    stored: Callable[[UUID, int], Any] | None,
) -> dict[UUID, int]:
    """Read, in one query per view, the rows of the aggregates not held in memory. An
    aggregate the batch creates has no earlier state to read: its first event makes it.
    Returns the versions of those that came from the event store instead."""
    wanted: dict[str, tuple[AggregateView, set[UUID]]] = {}
    restored: dict[UUID, int] = {}
    seen: set[UUID] = set()
    for view, _, event in mine:
        ident = event.originator_id
        if ident in seen or ident in memo:
            continue
        seen.add(ident)
        if event.originator_version > 1:
            wanted.setdefault(view.table, (view, set()))[1].add(ident)
    for view, ids in wanted.values():
        ordered = [str(i) for i in ids]
        for chunk in range(0, len(ordered), 500):
            part = ordered[chunk : chunk + 500]
            marks = ", ".join("?" for _ in part)
            cur.execute(
                f"SELECT id, version, {view.state_sql}, seq FROM {view.table} "
                f"WHERE id IN ({marks})",
                part,
            )
            for row in cur.fetchall():
                ident = UUID(row[0])
                if row[2] is None:  # the row cannot give it whole
                    if stored is None:
                        raise IncompleteRow(ident)
                    memo[ident] = (stored(ident, int(row[1])), int(row[3]))
                    restored[ident] = int(row[1])
                else:
                    memo[ident] = (view.codec.load(ident, row[1], row[2]), int(row[3]))
    return restored


def _upsert_rows(
    cur: SqlCursor,
    dialect: str,
    view: AggregateView,
    rows: list[tuple[Any, ...]],
    new: bool = False,
) -> None:
    """Write rows as `AggregateView.upsert` does, many per statement (ids are unique
    within a batch, which one statement's ON CONFLICT needs). `new`: rows of aggregates
    the batch made, streamed where the database can (a row written meanwhile by a save
    of the aggregate sends them all through the upsert)."""
    names = ("version", "state", *view.names)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names)
    tail = f"ON CONFLICT (id) DO UPDATE SET {updates} WHERE {view.table}.version < EXCLUDED.version"
    write = insert_new_rows if new else insert_rows
    write(cur, dialect, view.table, ("id", "seq", *names), rows, tail)
