"""Keeps the views fed from the event store's notification log, exactly once.

Inline views (one row per aggregate, which API responses read) are written by the
recorder in the events' own transaction (projections/inline.py); they follow the log
here only to be rebuilt, or once to settle a store written before they were inline.
The other views (audit, outbox) follow the log: each batch and its tracking position
commit in one transaction under a lock shared by every process, so no event is missed
or applied twice. They may lag by moments; `lag()` says by how much.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from application.ports import SqlCursor, SqlDatabase
from projections import failures
from projections.aggregate_view import AggregateView, name_of
from projections.batch_reader import BatchReader
from projections.collection import bulk_collection
from projections.progress import Progress
from projections.rebuild_batch import fold_batch
from projections.throttle import Throttled
from projections.toast import prefer_lz4

logger = logging.getLogger("experi.projections")
BATCH = 2_000
RENUDGE = 0.5  # seconds between two nudges of a worker a read waits for
# A worker that does not come is warned of once a minute, not on every read: when it
# stops, every audit read would log it.
LATE_WORKER_WARNING_EVERY = 60.0
INLINE_SINCE = "__inline_since__"  # where inline writing began on this store
REBUILDING = "__rebuilding__"  # present while a rebuild is unfinished (it resumes)


# Wakes a worker that catches the following views up; may wait up to the seconds
# given for a pass begun after the call to end, and says whether one has.
Nudge = Callable[[float], bool]


@dataclass(frozen=True)
class Following:
    """A worker that catches the following views up for this process's reads: `nudge`
    wakes it (directly in this process, by a notification in another; None: only the
    commits wake it), and a read waits at most `wait` seconds for it."""

    nudge: Nudge | None
    wait: float = 2.0


MARKS = "SELECT name, position FROM projection_tracking"


def _marked(rows: Iterable[Sequence[Any]]) -> dict[str, int]:
    return {str(name): int(position) for name, position in rows}


def _of(known: dict[str, int], views: Sequence[Any]) -> dict[str, int]:
    """The positions of `views` among the marks (0: not started)."""
    return {name_of(view): known.get(name_of(view), 0) for view in views}


class View(Protocol):
    tables: Sequence[str]  # what a rebuild empties

    def create_statements(self, dialect: str) -> list[str]: ...

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None: ...


def group_of(view: Any) -> str:
    """The views of a group follow the log together, under the group's own lock; a
    rebuild on PostgreSQL runs each group in its own process."""
    return str(getattr(view, "group", "rows"))


def locks_of(views: Sequence[Any]) -> tuple[str, ...]:
    """The locks of the views' groups, always taken in this order (no deadlock)."""
    return tuple(sorted({f"projections.{group_of(view)}" for view in views}))


class Helper(Protocol):
    """A group of views being followed somewhere else (another process)."""

    def wait(self, seconds: float) -> bool:
        """Whether it has finished; raises if it failed."""
        ...


def _tables_of(view: Any) -> set[str]:
    """The tables a view writes: those a rebuild empties, and its main table."""
    main = getattr(view, "table", None)
    return {*getattr(view, "tables", ()), *([main] if isinstance(main, str) else [])}


def _inline(view: Any) -> bool:
    return isinstance(view, AggregateView)


def run_each(cur: SqlCursor, statements: Iterable[str]) -> None:
    for statement in statements:
        cur.execute(statement)


SCHEMA = "__schema__:"  # a mark naming what the views' tables were last set up with


def fingerprint(dialect: str, statements: dict[str, list[str]]) -> str:
    """The views' set-up statements, in short: equal means nothing to create or alter."""
    text = "\n".join([dialect, *(f"{n}: {s}" for n, ss in statements.items() for s in ss)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Projector:
    def __init__(
        self,
        db: SqlDatabase,
        app: Application[UUID],
        views: Sequence[View],
        inline: Sequence[AggregateView] = (),
        transient: Callable[[BaseException], bool] = lambda error: True,
    ) -> None:
        self.db = db
        self.app = app
        # Errors after which a batch is tried again later as it is (a database that is
        # unreachable); any other sets the event that raises it aside (failures.py).
        self.transient = transient
        self.inline = list(inline)
        self.followers = list(views)
        self.views: list[Any] = [*self.inline, *self.followers]
        self.following: Following | None = None  # set where a worker follows the log
        self._late_worker = Throttled(LATE_WORKER_WARNING_EVERY)

    def setup(self, settle: bool = True) -> None:
        """Create or update the views' tables; with `settle`, bring the views up to date
        as a starting process does (a read-only look at them leaves them as they are)."""
        with self.db.transaction(lock=locks_of(self.views)) as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS projection_tracking "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cur.execute(failures.CREATE)
            known = self._marks(cur)
            statements = {
                name_of(view): view.create_statements(self.db.dialect) for view in self.views
            }
            mark = SCHEMA + fingerprint(self.db.dialect, statements)
            # Set up by this very code already, the views need no DDL, which would lock
            # tables other processes are writing (CREATE INDEX IF NOT EXISTS takes a
            # SHARE lock before it finds the index) and could deadlock with their saves.
            if mark not in known or any(name not in known for name in statements):
                self._create(cur, known, statements, mark)
        if settle:
            self._settle_inline()

    def _create(
        self, cur: SqlCursor, known: dict[str, int], statements: dict[str, list[str]], mark: str
    ) -> None:
        """Create (or bring up to date) the views' tables, and note what they now are."""
        latest = self.app.recorder.max_notification_id() or 0
        for view in self.views:
            # A view added to an existing store starts from the first event; an
            # inline one follows the log only up to where its inline writing began.
            name = name_of(view)
            if name not in known:
                cur.execute(
                    "INSERT INTO projection_tracking (name, position) VALUES (?, 0)", (name,)
                )
                if isinstance(view, AggregateView):
                    # Rows of an older layout are dropped and filled again.
                    for table in view.tables:
                        cur.execute(f"DROP TABLE IF EXISTS {table}")
                    cur.execute(
                        "INSERT INTO projection_tracking (name, position) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                        (name + INLINE_SINCE, latest),
                    )
            for statement in statements[name]:
                cur.execute(statement)
        if self.db.dialect == "postgresql":
            prefer_lz4(cur, sorted({t for view in self.views for t in _tables_of(view)}))
        cur.execute(
            "DELETE FROM projection_tracking WHERE substr(name, 1, ?) = ?", (len(SCHEMA), SCHEMA)
        )
        cur.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0)", (mark,))

    def _settle_inline(self) -> None:
        """Events stored before an inline view existed reach it once, here; every later
        event is written with its row."""
        with self.db.transaction() as cur:
            marks = self._marks(cur)
        if REBUILDING in marks:
            return  # the unfinished rebuild brings every view up to date when resumed
        for view in self.inline:
            since = marks.get(name_of(view) + INLINE_SINCE, 0)
            if marks.get(name_of(view), 0) < since:
                self._follow([view], stop=since)
        try:
            # The audit chain is linked inline from here on; older events link first.
            self.catch_up()
        except Exception:
            logger.warning("the views could not catch up at start", exc_info=True)

    def position(self) -> int:
        """How far every view has got: the following views' least position (the inline
        views hold every committed event by construction)."""
        return self.position_of(self.followers)

    def lag(self) -> int:
        """How many stored events the following views have yet to apply."""
        latest = self.app.recorder.max_notification_id() or 0
        with self.db.transaction() as cur:
            done = min(self._positions(cur, self.followers).values(), default=latest)
        return max(0, latest - done)

    def _marks(self, cur: SqlCursor) -> dict[str, int]:
        cur.execute(MARKS)
        return _marked(cur.fetchall())

    def _positions(self, cur: SqlCursor, views: Sequence[Any]) -> dict[str, int]:
        return _of(self._marks(cur), views)

    def settle(self) -> None:
        """Make the following views hold every event stored before this call, for a read
        that lists every change that has had a response (the audit log, its digest).

        Where a worker follows the log (`following`), the read waits for it: it nudges
        the worker if it is in this process, then reads the views' positions until they
        reach the log's end as it was at the call, with no lock and applying nothing, so
        its work does not grow with what other accounts wrote. A worker that has not got
        there within its `wait` (stopped, or a jobs process being replaced) is caught up
        for, here, as every read did before. Where none follows, this catches up."""
        following = self.following
        if following is not None:
            latest = self.app.recorder.max_notification_id() or 0
            if self.reached(latest, following.wait, following.nudge):
                return
            held = self._late_worker.due()
            if held is not None:
                logger.warning(
                    "the views that follow the event log did not reach event %d within %g s; "
                    "this read catches them up itself (%d more reads did since the last "
                    "such warning)",
                    latest,
                    following.wait,
                    held,
                )
        self.catch_up()

    def reached(self, target: int, wait: float, nudge: Nudge | None) -> bool:
        """Whether the following views reach `target` within `wait` seconds; a worker is
        nudged when they are found behind, and again every `RENUDGE` seconds (a request
        sent while its listener was away is not heard). Positions are read in one
        statement each: every millisecond for the first 20, then less often."""
        started = time.monotonic()
        nudged = float("-inf")
        polls = 0
        while self.position() < target:
            now = time.monotonic()
            left = started + wait - now
            if left <= 0:
                return False
            if nudge is not None and now - nudged >= RENUDGE:
                nudged = now
                # Waits a slice at most: another pass (the outbox's) may get there first.
                if nudge(min(0.05, left)):
                    continue  # a pass begun after the nudge has ended: look again
            polls += 1
            time.sleep(min(0.001 if polls <= 20 else 0.001 * 2 ** min(polls - 20, 6), left))
        return True

    def catch_up(self) -> None:
        """Apply every stored event the following views have not seen yet."""
        latest = self.app.recorder.max_notification_id() or 0
        with self.db.transaction() as cur:
            if min(self._positions(cur, self.followers).values(), default=latest) >= latest:
                return
        self._follow(self.followers)

    def _follow(
        self,
        views: Sequence[Any],
        stop: int | None = None,
        progress: Callable[[int], None] | None = None,
        rebuilding: bool = False,
    ) -> None:
        memo: dict[UUID, tuple[Any, int]] = {}
        reader = BatchReader(self.app, BATCH, ahead=self.db.dialect == "postgresql")
        try:
            with bulk_collection() if rebuilding else nullcontext():
                while True:
                    try:
                        last, more = self._apply_batch(views, stop, memo, reader, rebuilding)
                    except Exception as error:
                        # Inline rows are never passed over: each holds its aggregate's
                        # every event, which later events' rows build on.
                        if rebuilding or self.transient(error) or any(map(_inline, views)):
                            raise
                        memo.clear()
                        reached = self._one_at_a_time(views, stop)
                        if reached is None:  # no event to blame: not an event's fault
                            raise
                        last, more = reached, True
                    if progress is not None and last:
                        progress(last)
                    if not more:
                        return
        finally:
            reader.close()

    def _one_at_a_time(self, views: Sequence[Any], stop: int | None) -> int | None:
        """A batch failed: apply its events one at a time, up to and including the first
        that fails, which each view then tries alone; it is set aside for those that
        fail (failures.py). The position reached; None if no event followed."""
        reader = BatchReader(self.app, 1, ahead=False)
        reached = None
        try:
            for _ in range(BATCH):
                with self.db.transaction() as cur:
                    start = min(self._positions(cur, views).values(), default=0)
                following = self.app.recorder.select_notifications(
                    start=start, limit=1, stop=stop, inclusive_of_start=False
                )
                if not following:
                    return reached
                reached = seq = following[0].id
                try:
                    self._apply_batch(views, seq, {}, reader)
                except Exception as error:
                    if self.transient(error):
                        raise
                    self._each_alone(views, seq, reader)
                    return seq
            return reached
        finally:
            reader.close()

    def _each_alone(self, views: Sequence[Any], seq: int, reader: BatchReader) -> None:
        """Event `seq` to each view in its own transaction, in order; set aside for the
        views that fail it, so that the others (the outbox, say) still have it."""
        failed: list[tuple[Any, BaseException]] = []
        for view in views:
            try:
                self._apply_batch([view], seq, {}, reader)
            except Exception as error:
                if self.transient(error):
                    raise
                failed.append((view, error))
        if failed:
            self._set_aside([v for v, _ in failed], seq, failed[0][1])

    def _set_aside(self, views: Sequence[Any], seq: int, error: BaseException) -> None:
        """Record event `seq` as failed by `views` and move them past it; or, with `LIMIT`
        events set aside already, raise `error` (the views stop at it)."""
        with self.db.transaction(lock=locks_of(views)) as cur:
            behind = [n for n, at in self._positions(cur, views).items() if at < seq]
            if not behind:
                return  # another process got past it meanwhile
            if failures.count(cur) >= failures.LIMIT:
                logger.error(
                    "event %s could not be applied to the views %s, which stop at it: "
                    "%s events are set aside already (%s)",
                    seq, ", ".join(behind), failures.LIMIT, failures.TABLE,
                )  # fmt: skip
                raise error
            failed_at = datetime.now(UTC).isoformat()
            failures.record(cur, failures.Failure(seq, tuple(behind), repr(error), failed_at))
            for name in behind:
                cur.execute(
                    "UPDATE projection_tracking SET position = ? WHERE name = ?", (seq, name)
                )
        logger.error(
            "event %s could not be applied to the views %s; it is set aside in %s and "
            "they go on (a rebuild applies it again)",
            seq, ", ".join(behind), failures.TABLE, exc_info=error,
        )  # fmt: skip

    def _stored(self, ident: UUID, version: int) -> Any:
        """The aggregate at `version` from the event store."""
        return self.app.repository.get(ident, version=version)

    def failures(self) -> list[failures.Failure]:
        """The events set aside by the following views, oldest first."""
        with self.db.transaction() as cur:
            return failures.listed(cur)

    def _apply_batch(
        self,
        views: Sequence[Any],
        stop: int | None,
        memo: dict[UUID, tuple[Any, int]],
        reader: BatchReader,
        rebuilding: bool = False,
    ) -> tuple[int, bool]:
        with self.db.transaction(lock=locks_of(views)) as cur:
            if rebuilding and self.db.dialect == "postgresql":
                # A rebuild's batch may be lost in a crash of the database (its position
                # goes with it, so the rebuild resumes before it): it need not wait for
                # the WAL flush. The rebuild's last commit waits, and flushes the rest.
                cur.execute("SET LOCAL synchronous_commit = off")
            inline = [v for v in views if isinstance(v, AggregateView)]
            if rebuilding:
                run_each(cur, (s for v in inline for s in v.rebuilding_statements(self.db.dialect)))
            positions = self._positions(cur, views)
            start = min(positions.values(), default=0)
            if stop is not None and start >= stop:
                return 0, False
            events = reader.read(start, stop)
            notifications = [n for n, _ in events]
            if inline:
                fold_batch(cur, inline, positions, events, memo, self.db.dialect, self._stored)
            following = [v for v in views if not isinstance(v, AggregateView)]
            # Every batched view reads what it needs before any of them writes, so each
            # sees the store as one-at-a-time application would have left it.
            prepared = {
                name_of(v): v.prepare(cur, events) for v in following if hasattr(v, "apply_batch")
            }
            for view in following:
                after = positions[name_of(view)]
                if name_of(view) in prepared:
                    view.apply_batch(cur, events, after, prepared[name_of(view)])
                    continue
                for notification, event in events:
                    if after < notification.id:
                        view.apply(cur, event, notification)
            if notifications:
                last = notifications[-1].id
                # One statement for every view the batch moved (a dozen in a rebuild's
                # rows process), not one round trip each.
                behind = [name_of(v) for v in views if positions[name_of(v)] < last]
                if behind:
                    cur.execute(
                        "UPDATE projection_tracking SET position = ? "
                        f"WHERE name IN ({', '.join('?' for _ in behind)})",
                        (last, *behind),
                    )
                return last, len(notifications) == BATCH
            return 0, False

    def rebuild(
        self,
        progress: Progress | None = None,
        elsewhere: Callable[[str], Helper] | None = None,
    ) -> None:
        """Empty the views and apply the whole event stream again. An interrupted
        rebuild resumes where it stopped when run again. `elsewhere` starts following
        a group of views in another process: on PostgreSQL every group but the first
        is rebuilt that way, alongside this one."""
        latest = self.app.recorder.max_notification_id() or 0
        everything = locks_of(self.views)
        with self.db.transaction(lock=everything) as cur:
            marks = self._marks(cur)
            if REBUILDING not in marks:
                dialect = self.db.dialect
                run_each(cur, (s for v in self.inline for s in v.rebuilding_statements(dialect)))
                for view in self.views:
                    for table in view.tables:
                        cur.execute(f"DELETE FROM {table}")
                cur.execute("UPDATE projection_tracking SET position = 0")
                cur.execute(
                    "INSERT INTO projection_tracking (name, position) VALUES (?, ?)",
                    (REBUILDING, latest),
                )
                start = 0
            else:
                start = min(self._positions(cur, self.views).values(), default=0)
        bar = progress or Progress()
        bar.start(start, latest)
        groups = self._groups()
        here = list(self.views)
        helpers: list[Helper] = []
        if elsewhere is not None and self.db.dialect == "postgresql" and len(groups) > 1:
            first, *others = groups
            here = groups[first]
            helpers = [elsewhere(group) for group in others]
        self._follow(
            here, progress=lambda _: bar.update(self.position_of(self.views)), rebuilding=True
        )
        for helper in helpers:
            while not helper.wait(0.5):
                bar.update(self.position_of(self.views))
        with self.db.transaction(lock=everything) as cur:
            run_each(cur, (s for v in self.inline for s in v.rebuilt_statements(self.db.dialect)))
            cur.execute("DELETE FROM projection_tracking WHERE name = ?", (REBUILDING,))
            failures.clear(cur)
        bar.finish()

    def follow_group(self, group: str) -> None:
        """Apply every stored event to one group's views (a rebuild's helper)."""
        self._follow(self._groups()[group], rebuilding=True)

    def _groups(self) -> dict[str, list[Any]]:
        """The views by group, in the order of their first view."""
        groups: dict[str, list[Any]] = {}
        for view in self.views:
            groups.setdefault(group_of(view), []).append(view)
        return groups

    def position_of(self, views: Sequence[Any]) -> int:
        """The least position of `views`, in one statement (a rebuild asks after each
        batch, for its progress bar)."""
        return min(_of(_marked(self.db.rows(MARKS)), views).values(), default=0)
