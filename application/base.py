"""The event-sourced application's core: persistence set-up, retries, tenancy checks."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, OperationalError

from application import transcodings
from application.ports import Clock, KeyHasher, SystemClock
from domain.errors import NotFound

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 50


def retry_on_conflict(func: Callable[P, R]) -> Callable[P, R]:
    """Run a get -> change -> save command again when another writer got there first.

    A version conflict means nothing of this attempt was stored, so running the
    whole command again (reading the aggregates afresh) is safe.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return func(*args, **kwargs)
            except (IntegrityError, OperationalError):
                if attempt == MAX_ATTEMPTS - 1:
                    raise
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
        self._after_save: list[Callable[[], None]] = []
        self._locks: defaultdict[UUID, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._deferred = threading.local()

    @contextmanager
    def serialised(self, key: UUID) -> Iterator[None]:
        """One thread of this process at a time for `key` (a hot aggregate, such as an
        account's invoice counter); other processes still meet as version conflicts."""
        with self._locks_guard:
            lock = self._locks[key]
        with lock:
            yield

    @property
    def hasher(self) -> KeyHasher:
        if self._hasher is None:
            raise RuntimeError("no key hasher configured")
        return self._hasher

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder)

    def on_saved(self, callback: Callable[[], None]) -> None:
        """Call back after every save (projections catch up before a response)."""
        self._after_save.append(callback)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        if not getattr(self._deferred, "active", False):
            for callback in self._after_save:
                callback()
        return recordings

    @contextmanager
    def callbacks_deferred(self) -> Iterator[None]:
        """Saves in this thread skip the after-save callbacks until the block ends, then
        they run once (a batch job catches the views up once, not after every save)."""
        self._deferred.active = True
        try:
            yield
        finally:
            self._deferred.active = False
            for callback in self._after_save:
                callback()

    def get_owned(self, cls: type[A], account_id: UUID, obj_id: UUID, label: str) -> A:
        """The aggregate if it exists, has this type and belongs to this account."""
        try:
            obj: object = self.repository.get(obj_id)
        except AggregateNotFoundError:
            raise NotFound(f"{label} not found") from None
        if not isinstance(obj, cls) or getattr(obj, "account_id", None) != account_id:
            raise NotFound(f"{label} not found")
        return obj

    def get_typed(self, cls: type[A], obj_id: UUID, label: str) -> A:
        try:
            obj: object = self.repository.get(obj_id)
        except AggregateNotFoundError:
            raise NotFound(f"{label} not found") from None
        if not isinstance(obj, cls):
            raise NotFound(f"{label} not found")
        return obj
