"""Inline projections: the rows API responses read, written in the events' transaction.

The recorder calls `write` inside its insert transaction with the aggregates being
saved, so a row commits with its events or not at all: a client reads its own writes
from any process without a lock or a catch-up. Reads load an aggregate from its row by
(account, id), one indexed lookup whatever the aggregate's history.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.lru import LRU
from application.ports import SqlCursor, SqlDatabase
from projections.aggregate_view import AggregateView, IncompleteRow, Seq
from projections.audit_chain import GENESIS, link, link_parts
from projections.events_feed import EventsFeed
from projections.kept_states import KeptStates

logger = logging.getLogger("experi.projections")
_UNKNOWN = object()


@dataclass
class Prepared:
    """What a save writes to the views, worked out before its transaction: under the
    event table's lock only the statements run, with the events' notification ids."""

    links: list[tuple[str, bytes]]  # each event's link text after `id|`, and its digest
    rows: list[tuple[AggregateView, Any, tuple[Any, ...]]]  # (version, state, *columns)
    feed: list[tuple[Any, ...] | None]  # each event's feed row after `seq`, if any
    parts: list[tuple[AggregateView, list[tuple[Any, ...]]]]  # rows kept beside rows


class InlineViews:
    def __init__(
        self,
        db: SqlDatabase,
        views: Sequence[AggregateView],
        recording: Callable[[], Mapping[UUID, Any]],
        events: Callable[[], Sequence[Any]] = list,
        feed: EventsFeed | None = None,
        kept: KeptStates | None = None,
        stored: Callable[[UUID], Any] | None = None,
    ) -> None:
        self.db = db
        # An aggregate from the event store, for a row that cannot give it whole.
        self.stored = stored
        # The version each aggregate handed out from a whole row had there (by object):
        # a save of it writes only the blocks its own events complete; any other save
        # writes them all (see projections/invoice_payments.py).
        self._bases: LRU[int, tuple[weakref.ref[Any], int]] = LRU(4096)
        self.kept = kept or KeptStates()  # large states, decoded once per version
        self._sizes = threading.local()
        self.events = events  # the domain events this thread is saving, in order
        self.feed = feed
        self.views = views
        self.by_class = {view.aggregate_class: view for view in views}
        self._kinds = frozenset(
            view.aggregate_class for view in views if "account_id" in view.columns
        )
        self.recording = recording  # the aggregates this thread is saving

    def prepare(self, stored: Sequence[StoredEvent]) -> Prepared:
        """Shape documents, encode states and build feed rows, outside the transaction."""
        aggregates = self.recording()
        rows = [
            (view, aggregate)
            for aggregate in aggregates.values()
            if (view := self.by_class.get(type(aggregate))) is not None
        ]
        # Each document is shaped once: for its row and for the feed.
        documents = {a.id: view.shape(a) for view, a in rows if view.shape is not None}
        values = [(view, a, view.row(a, documents.get(a.id))) for view, a in rows]
        parts = [
            (view, view.parts(a, self._added(a, stored), documents.get(a.id))) for view, a in rows
        ]
        # The states' sizes, for what this process keeps once the save commits.
        self._sizes.value = (
            {a.id: view.state_size(a, row) for view, a, row in values} if self.kept else None
        )
        # The feed stores an invoice's document without its payments (see
        # feed_payments), so the row's document, which leaves out most, serves as well.
        shaped = {a.id: row[-1] for view, a, row in values if view.shape is not None}
        feed = self._feed(self.feed, stored, aggregates, shaped) if self.feed else []
        return Prepared([link_parts(event) for event in stored], values, feed, parts)

    def _added(self, aggregate: Any, stored: Sequence[StoredEvent]) -> int:
        """How many events were applied to `aggregate` since the row its blocks build
        on: this save's own if it came from its whole row at the version before them,
        else every one it has had."""
        added = sum(1 for event in stored if event.originator_id == aggregate.id)
        version = int(aggregate.version)
        base = self._bases.get(id(aggregate))
        if base is not None and base[1] == version - added and base[0]() is aggregate:
            return added
        return version

    def _based(self, aggregate: Any) -> Any:
        self._bases.put(id(aggregate), (weakref.ref(aggregate), aggregate.version))
        return aggregate

    def write(
        self,
        cur: SqlCursor,
        stored: Sequence[StoredEvent],
        seqs: Sequence[Seq],
        prepared: Prepared,
    ) -> None:
        """Upsert the rows of the aggregates whose events are being inserted; a new
        row's `seq` is its first event's notification id (lists sort by it). `seqs`
        gives each event's notification id as SQL, so no reply is awaited in between."""
        if not seqs:
            return
        extend_chain(cur, self.db.dialect, prepared.links, seqs)
        if self.feed is not None and prepared.feed:
            rows = [(seq, row) for seq, row in zip(seqs, prepared.feed, strict=False) if row]
            self.feed.insert_saved(cur, rows)
        first: dict[Any, Seq] = {}
        for event, seq in zip(stored, seqs, strict=False):
            first.setdefault(event.originator_id, seq)
        for view, aggregate, row in prepared.rows:
            if aggregate.id in first:
                view.upsert(cur, aggregate, first[aggregate.id], row)
        for view, parts in prepared.parts:
            view.write_parts(cur, parts)

    def _feed(
        self,
        feed: EventsFeed,
        stored: Sequence[StoredEvent],
        aggregates: Mapping[UUID, Any],
        documents: Mapping[UUID, bytes],
    ) -> list[tuple[Any, ...] | None]:
        """One feed row per event, with its resource as it stood right after it."""
        events = self.events()
        if len(events) != len(stored):
            logger.warning("the events feed follows the log for a save it could not match")
            return []  # the projector writes these rows when it follows the log
        counts = Counter(e.originator_id for e in events)
        states: dict[UUID, Any] = {}
        rows: list[tuple[Any, ...] | None] = []
        for event in events:
            aggregate_id = event.originator_id
            aggregate = aggregates.get(aggregate_id)
            view = self.by_class.get(type(aggregate))
            if view is None or view.shape is None or aggregate_id not in documents:
                rows.append(None)
            elif counts[aggregate_id] == 1:
                rows.append(feed.body(event, aggregate, documents[aggregate_id]))
            else:
                # Several events of one aggregate in one save: each gets its own state,
                # from the row as it stood before (its version says whether it still
                # does; if not, this save conflicts and stores nothing).
                if aggregate_id not in states:
                    states[aggregate_id] = self._before(view, event)
                if states[aggregate_id] is _UNKNOWN:
                    rows.append(None)  # no row to start from: the projector writes it
                    continue
                state = states[aggregate_id] = event.mutate(states[aggregate_id])
                last = event.originator_version == getattr(aggregate, "version", None)
                document = documents[aggregate_id] if last else view.shape(state)
                rows.append(feed.body(event, state, document))
        return rows

    def _before(self, view: AggregateView, event: Any) -> Any:
        """The aggregate as its row holds it before this save (None before its first)."""
        if event.originator_version == 1:
            return None
        row = self._row(view, event.originator_id)
        if row is None or row[0] != event.originator_version - 1 or row[1] is None:
            return _UNKNOWN
        return view.codec.load(event.originator_id, row[0], row[1])

    def _row(
        self,
        view: AggregateView,
        obj_id: UUID,
        account_id: UUID | None = None,
        state: tuple[str, tuple[Any, ...]] | None = None,
    ) -> tuple[Any, ...] | None:
        """(version, state, ...) of the row, if it exists (and belongs to `account_id`);
        `state` is the state's SQL and its parameters (by default the whole state)."""
        state = state or (view.state_sql, ())
        sql = f"SELECT version, {state[0]} FROM {view.table} WHERE id = ?"
        if account_id is None:
            return self.db.statement(sql, (*state[1], str(obj_id)))
        sql += " AND account_id = ?"
        return self.db.statement(sql, (*state[1], str(obj_id), str(account_id)))

    # The RowReader port (application/ports.py).

    def kinds(self) -> frozenset[type]:
        return self._kinds

    def load(self, cls: type, account_id: UUID, obj_id: UUID) -> Any | None:
        return self._load(self.by_class[cls], obj_id, account_id)

    def load_any(self, cls: type, obj_id: UUID) -> Any | None:
        view = self.by_class.get(cls)
        return None if view is None else self._load(view, obj_id)

    def load_each(self, wanted: Sequence[tuple[type, UUID | None, UUID]]) -> list[Any | None]:
        """Several aggregates, each by (its class, its account or None, its id), from
        their rows in one statement; None for each that has no row (or another owner)."""
        selects, params = [], []
        for n, (cls, account_id, obj_id) in enumerate(wanted):
            if cls not in self.by_class:
                continue  # no rows kept of this kind
            view = self.by_class[cls]
            select = f"SELECT {n}, version, {view.state_sql} FROM {view.table} WHERE id = ?"
            params.append(str(obj_id))
            if account_id is not None:
                select += " AND account_id = ?"
                params.append(str(account_id))
            selects.append(select)
        rows = self.db.rows(" UNION ALL ".join(selects), params) if selects else []
        found = {row[0]: row for row in rows}
        return [
            self._aggregate(self.by_class[cls], obj_id, account_id, found[n][1], found[n][2])
            if n in found
            else None
            for n, (cls, account_id, obj_id) in enumerate(wanted)
        ]

    def _aggregate(
        self, view: AggregateView, obj_id: UUID, account_id: UUID | None, version: int, state: Any
    ) -> Any:
        """The aggregate from its row's whole state, or from the event store if the
        row could not give it whole (None)."""
        if state is not None:
            return self._based(view.codec.load(obj_id, version, state))
        if self.stored is None:
            raise IncompleteRow(obj_id)
        aggregate = self.stored(obj_id)
        if account_id is not None and getattr(aggregate, "account_id", None) != account_id:
            return None
        return aggregate

    def _load(self, view: AggregateView, obj_id: UUID, account_id: UUID | None = None) -> Any:
        """The aggregate from its row; its state is not read when this process keeps it
        at the row's version (see KeptStates)."""
        kept = self.kept.entry(obj_id)
        if kept is None:
            row = self._row(view, obj_id, account_id)
        else:
            # The kept state, if the row still stands at its version; whether the row's
            # blocks are all there decides which blocks its save writes.
            state = (
                f"CASE WHEN version = ? THEN NULL ELSE {view.state_sql} END, {view.complete_sql}",
                (kept.version,),
            )
            row = self._row(view, obj_id, account_id, state)
        if row is None:
            return None
        if row[1] is None and kept is not None and kept.version == row[0]:
            aggregate = self.kept.handed_out(kept)
            return self._based(aggregate) if row[2] else aggregate
        aggregate = self._aggregate(view, obj_id, account_id, row[0], row[1])
        if row[1] is not None:
            self.kept.loaded(aggregate, len(row[1]))
        return aggregate

    def saved(self, aggregates: Sequence[Any]) -> None:
        """After a commit (ExperiBase.on_saved): what is kept follows the saved rows."""
        sizes = getattr(self._sizes, "value", None)
        self._sizes.value = None
        if sizes:
            self.kept.saved(aggregates, sizes)


# PostgreSQL links each event to the link before it in the statement that inserts it,
# so a save reads nothing back under the event table's lock. Same bytes as `link`.
_LINK_SQL = (
    "INSERT INTO audit_chain (seq, hash) SELECT e.seq, encode(sha256(convert_to("
    "COALESCE((SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1), ?) "
    "|| '|' || e.seq || '|' || ?, 'UTF8') || ?::bytea), 'hex') "
    "FROM (SELECT {seq} AS seq) e ON CONFLICT (seq) DO NOTHING"
)


def extend_chain(
    cur: SqlCursor, dialect: str, links: Sequence[tuple[str, bytes]], seqs: Sequence[Seq]
) -> None:
    """Link the events into the global audit chain as they commit (the insert holds the
    event table's lock, so links are made in notification order): an event altered
    after its commit no longer matches its link, and no later pass can re-link it."""
    if dialect == "postgresql":
        for (tail, digest), (seq, params) in zip(links, seqs, strict=False):
            cur.execute(_LINK_SQL.format(seq=seq), (GENESIS, tail, digest, *params))
        return
    # SQLite has no SHA-256 in SQL; its ids are known (nothing is pipelined there).
    cur.execute("SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
    row = cur.fetchone()
    previous = str(row[0]) if row else GENESIS
    for parts, (_, (notification_id,)) in zip(links, seqs, strict=False):
        previous = link(previous, notification_id, parts)
        cur.execute(
            "INSERT INTO audit_chain (seq, hash) VALUES (?, ?) ON CONFLICT (seq) DO NOTHING",
            (notification_id, previous),
        )
