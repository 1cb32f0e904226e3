"""Inline projections: the rows API responses read, written in the events' transaction.

The recorder calls `write` inside its insert transaction with the aggregates being
saved, so a row commits with its events or not at all: a client reads its own writes
from any process without a lock or a catch-up. Reads load an aggregate from its row by
(account, id), one indexed lookup whatever the aggregate's history.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from application.ports import SqlCursor, SqlDatabase
from projections.aggregate_view import AggregateView
from projections.audit_chain import GENESIS, chain_hash
from projections.events_feed import EventsFeed

logger = logging.getLogger("experi.projections")
_UNKNOWN = object()


class InlineViews:
    def __init__(
        self,
        db: SqlDatabase,
        views: Sequence[AggregateView],
        recording: Callable[[], Mapping[UUID, Any]],
        events: Callable[[], Sequence[Any]] = list,
        feed: EventsFeed | None = None,
    ) -> None:
        self.db = db
        self.events = events  # the domain events this thread is saving, in order
        self.feed = feed
        self.views = views
        self.by_class = {view.aggregate_class: view for view in views}
        self._kinds = frozenset(
            view.aggregate_class for view in views if "account_id" in view.columns
        )
        self.recording = recording  # the aggregates this thread is saving

    def write(
        self, cur: SqlCursor, stored: Sequence[StoredEvent], ids: Sequence[int] | None
    ) -> None:
        """Upsert the rows of the aggregates whose events are being inserted; a new
        row's `seq` is its first event's notification id (lists sort by it)."""
        extend_chain(cur, stored, ids)
        aggregates = self.recording()
        if not aggregates:
            return
        first: dict[Any, int] = {}
        for event, notification_id in zip(stored, ids or (), strict=False):
            first.setdefault(event.originator_id, notification_id)
        rows = [
            (view, aggregate, first[aggregate_id])
            for aggregate_id, aggregate in aggregates.items()
            if (view := self.by_class.get(type(aggregate))) is not None and aggregate_id in first
        ]
        # Each document is shaped once: for its row and for the feed.
        documents = {a.id: view.shape(a) for view, a, _ in rows if view.shape is not None}
        if self.feed is not None and ids:
            self._write_feed(cur, self.feed, ids, aggregates, documents)  # reads rows before
        for view, aggregate, seq in rows:
            view.upsert(cur, aggregate, seq, documents.get(aggregate.id))

    def _write_feed(
        self,
        cur: SqlCursor,
        feed: EventsFeed,
        ids: Sequence[int],
        aggregates: Mapping[UUID, Any],
        documents: Mapping[UUID, bytes],
    ) -> None:
        """One feed row per event, with its resource as it stood right after it."""
        events = self.events()
        if len(events) != len(ids):
            logger.warning("the events feed follows the log for a save it could not match")
            return  # the projector writes these rows when it follows the log
        counts = Counter(e.originator_id for e in events)
        states: dict[UUID, Any] = {}
        rows = []
        for event, notification_id in zip(events, ids, strict=True):
            aggregate_id = event.originator_id
            aggregate = aggregates.get(aggregate_id)
            view = self.by_class.get(type(aggregate))
            if view is None or view.shape is None or aggregate_id not in documents:
                continue
            if counts[aggregate_id] == 1:
                rows.append(feed.row(notification_id, event, aggregate, documents[aggregate_id]))
                continue
            # Several events of one aggregate in one save: each gets its own state.
            if aggregate_id not in states:
                states[aggregate_id] = self._before(cur, view, event)
            if states[aggregate_id] is _UNKNOWN:
                continue  # no row to start from: the projector writes these rows
            state = states[aggregate_id] = event.mutate(states[aggregate_id])
            rows.append(feed.row(notification_id, event, state, view.shape(state)))
        feed.insert(cur, self.db.dialect, rows)

    @staticmethod
    def _before(cur: SqlCursor, view: AggregateView, event: Any) -> Any:
        """The aggregate as its row holds it before this save (None before its first)."""
        if event.originator_version == 1:
            return None
        cur.execute(
            f"SELECT version, state FROM {view.table} WHERE id = ?", (str(event.originator_id),)
        )
        row = cur.fetchone()
        if row is None or row[0] != event.originator_version - 1:
            return _UNKNOWN
        return view.codec.load(event.originator_id, row[0], row[1])

    # The RowReader port (application/ports.py).

    def kinds(self) -> frozenset[type]:
        return self._kinds

    def load(self, cls: type, account_id: UUID, obj_id: UUID) -> Any | None:
        view = self.by_class[cls]
        row = self.db.statement(
            f"SELECT version, state FROM {view.table} WHERE id = ? AND account_id = ?",
            (str(obj_id), str(account_id)),
        )
        return None if row is None else view.codec.load(obj_id, row[0], row[1])


def extend_chain(cur: SqlCursor, stored: Sequence[StoredEvent], ids: Sequence[int] | None) -> None:
    """Link the events into the global audit chain as they commit (the insert holds the
    event table's lock, so links are made in notification order): an event altered
    after its commit no longer matches its link, and no later pass can re-link it."""
    if not ids:
        return
    cur.execute("SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
    row = cur.fetchone()
    previous = str(row[0]) if row else GENESIS
    for event, notification_id in zip(stored, ids, strict=False):
        n = Notification(
            id=notification_id,
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.topic,
            state=event.state,
        )
        previous = chain_hash(previous, n)
        cur.execute(
            "INSERT INTO audit_chain (seq, hash) VALUES (?, ?) ON CONFLICT (seq) DO NOTHING",
            (notification_id, previous),
        )
