"""The event-sourced application's core: persistence set-up, retries, tenancy checks."""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, BaseAggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    OperationalError,
    Transcoder,
)

from application import transcodings
from application.ports import Clock, KeyHasher, RowReader, SharedLocks, SystemClock
from domain.errors import NotFound
from domain.meta import Meta

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 50
logger = logging.getLogger("experi.commands")


def operation_id(meta: Meta) -> UUID | None:
    """The id a request's Idempotency-Key gives the object its command creates."""
    raw = meta.get("operationId")
    return UUID(raw) if raw else None


class _Attempt:
    """What one run of a command has done so far: started saving, committed; and
    whether it is a retry after a conflict (which reads from the event store)."""

    __slots__ = ("committed", "retry", "saving")

    def __init__(self, retry: bool = False) -> None:
        self.saving = False
        self.committed = False
        self.retry = retry


def _attempts(app: object) -> list[_Attempt]:
    """The commands of `app` running in this thread, outermost first."""
    running: threading.local = app._running  # type: ignore[attr-defined]
    stack: list[_Attempt] | None = getattr(running, "stack", None)
    if stack is None:
        stack = running.stack = []
    return stack


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run a get -> change -> save command again when another writer got there first.

    Only a version conflict (IntegrityError) raised before this attempt committed
    anything is retried, and an OperationalError (a lock or pool timeout) only while
    the command was still reading, before it began to save: in both cases nothing of
    the attempt was stored, so running it again from fresh reads is safe. Anything
    raised once a save began, or after a commit, is never retried.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(MAX_ATTEMPTS):
            state = _Attempt(retry=attempt > 0)
            _attempts(args[0]).append(state)
            try:
                return func(*args, **kwargs)
            except IntegrityError:
                if state.committed or attempt == MAX_ATTEMPTS - 1:
                    raise
            except OperationalError:
                if state.saving or attempt == MAX_ATTEMPTS - 1:
                    raise
            finally:
                _attempts(args[0]).pop()
            # Full jitter, so that the losers of a race do not collide again.
            time.sleep(random.uniform(0, min(0.005 * 2**attempt, 0.25)))
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


class ExperiBase(Application[UUID]):
    """Holds the ports and the helpers shared by every group of commands."""

    name = "Experi"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        hasher: KeyHasher | None = None,
    ) -> None:
        super().__init__(env)
        self.clock: Clock = clock or SystemClock()
        self._hasher = hasher
        self._after_save: list[Callable[[Sequence[Any]], None]] = []
        self._locks: defaultdict[UUID, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._running = threading.local()
        self._recording = threading.local()
        # SQLite has one writer at a time: this process's writers queue here instead of
        # failing with "database is locked"; other processes wait on the busy timeout.
        sqlite = self.env.get("PERSISTENCE_MODULE", "") == "eventsourcing.sqlite"
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if sqlite else nullcontext()
        )

    # Set by the composition root: a lock shared by every process on the database
    # (PostgreSQL), so writers of one hot aggregate queue instead of conflicting.
    shared_locks: SharedLocks | None = None

    @contextmanager
    def serialised(self, key: UUID) -> Iterator[None]:
        """One writer at a time for `key` (a hot aggregate, such as an account's invoice
        counter): threads of this process queue here first, so that each process holds
        at most one shared lock per key; processes then queue on the shared lock rather
        than meeting as version conflicts and retrying."""
        with self._locks_guard:
            lock = self._locks[key]
        with lock, self.shared_locks.hold(key) if self.shared_locks else nullcontext():
            yield

    @property
    def hasher(self) -> KeyHasher:
        if self._hasher is None:
            raise RuntimeError("no key hasher configured")
        return self._hasher

    def construct_transcoder(self) -> Transcoder:
        transcoder = transcodings.EventTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder)

    def on_saved(self, callback: Callable[[Sequence[Any]], None]) -> None:
        """Call back after every commit with the aggregates saved (work that may fail
        without failing the command)."""
        self._after_save.append(callback)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        for state in _attempts(self):
            state.saving = True
        with self._write_lock:
            recordings = self._save(objs, kwargs)
        self._after_commit(objs)
        return recordings

    def _save(self, objs: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The library's `Application.save`, with an aggregate's pending events taken by
        its class: the library's `collect_events` first asks each object two protocols
        checked at run time, about 12 us an aggregate on Python 3.11 (a new invoice
        saves two). Anything else is collected as the library collects it."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, still called
        return recordings

    def _record(self, processing_event: Any) -> Any:
        # The recorder writes the inline views from these, inside its insert transaction.
        self._recording.aggregates = processing_event.aggregates
        self._recording.events = processing_event.events
        try:
            recordings = super()._record(processing_event)
        finally:
            self._recording.aggregates = None
            self._recording.events = None
        # Committed: from here on nothing may re-run the command or fail its response.
        for state in _attempts(self):
            state.committed = True
        return recordings

    def recording(self) -> dict[UUID, Any]:
        """The aggregates this thread is storing right now (empty outside a save)."""
        return getattr(self._recording, "aggregates", None) or {}

    def recorded_events(self) -> list[Any]:
        """The domain events this thread is storing right now, in order."""
        return list(getattr(self._recording, "events", None) or ())

    def _take_snapshots(self, processing_event: Any) -> None:
        try:
            self._snapshot_saved(processing_event)
        except Exception:
            logger.warning("a snapshot could not be taken after a commit", exc_info=True)

    def _snapshot_saved(self, processing_event: Any) -> None:
        """Snapshot each aggregate whose version reached its interval: from the object
        just saved when the snapshot's version is its own (the state a replay would
        give, with no read and no replay), else from the store at that version.
        Always of `snapshot_class` (domain/snapshots.py), which gives tuples back as
        tuples: the library's own (every aggregate's `Snapshot`) gives lists."""
        intervals = self.snapshotting_intervals or {}
        snapshot_class = self.snapshot_class
        if self.snapshots is None or not intervals or snapshot_class is None:
            return
        taken = []
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version != event.originator_version:
                aggregate = self.repository.get(
                    event.originator_id, version=event.originator_version
                )
            taken.append(snapshot_class.take(aggregate))
        if taken:
            self.snapshots.put(taken)

    def _after_commit(self, saved: Sequence[Any]) -> None:
        """Work that follows a commit; a failure is logged, never raised: the change is
        stored whatever happens next."""
        for callback in self._after_save:
            try:
                callback(saved)
            except Exception:
                logger.warning("work after a commit failed; it is retried later", exc_info=True)

    def earlier_result(self, cls: type[A], account_id: UUID, meta: Meta) -> A | None:
        """What an earlier run of this same operation (same Idempotency-Key) created."""
        op = operation_id(meta)
        if op is None:
            return None
        try:
            return self.get_owned(cls, account_id, op, cls.__name__)
        except NotFound:
            return None

    # Set by the composition root: the inline read model, whose rows are written in the
    # same transaction as the events. The kinds it holds load from their row by
    # (account, id) in one indexed read: no replay, whatever the history, and another
    # account's id costs what an unknown id costs.
    rows: RowReader | None = None

    def from_row(self, cls: type, obj_id: UUID) -> Any | None:
        """The aggregate from its inline row in one indexed read, or None: no such row,
        or a retry after a conflict, which reads from the event store, the authority
        (a row may lag it while a process of an older release is still writing)."""
        rows = self._row_reader()
        return None if rows is None else rows.load_any(cls, obj_id)

    def stored(self, cls: type, obj_id: UUID) -> object | None:
        """From its row if `cls` keeps one (see `from_row`), else from the event store;
        None if neither has it."""
        found: object = self.from_row(cls, obj_id)
        if found is not None:
            return found
        try:
            obj: object = self.repository.get(obj_id)
        except AggregateNotFoundError:
            return None
        return obj

    def from_rows(self, *wanted: tuple[type, UUID | None, UUID]) -> list[Any | None] | None:
        """Several aggregates from their rows in one read (see `RowReader.load_each`), or
        None where rows are not to be read (see `from_row`): then load each alone."""
        rows = self._row_reader()
        if rows is None or any(a is not None and c not in rows.kinds() for c, a, _ in wanted):
            return None
        return rows.load_each(wanted)

    def get_owned(self, cls: type[A], account_id: UUID, obj_id: UUID, label: str) -> A:
        """The aggregate if it exists, has this type and belongs to this account."""
        rows = self._row_reader()
        if rows is not None and cls in rows.kinds():
            found = rows.load(cls, account_id, obj_id)
            if not isinstance(found, cls):
                raise NotFound(f"{label} not found")
            return found
        try:
            obj: object = self.repository.get(obj_id)
        except AggregateNotFoundError:
            raise NotFound(f"{label} not found") from None
        if not isinstance(obj, cls) or getattr(obj, "account_id", None) != account_id:
            raise NotFound(f"{label} not found")
        return obj

    def _row_reader(self) -> RowReader | None:
        """The inline rows, unless this is a retry after a conflict (which reads the
        event store, the authority) or none are kept."""
        return None if self.rows is None or self._retrying() else self.rows

    def _retrying(self) -> bool:
        return any(state.retry for state in _attempts(self))

    def get_typed(self, cls: type[A], obj_id: UUID, label: str) -> A:
        obj = self.stored(cls, obj_id)
        if not isinstance(obj, cls):
            raise NotFound(f"{label} not found")
        return obj
