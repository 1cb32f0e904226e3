"""Reads the event log a batch at a time, decoded; on PostgreSQL the next batch is read
and decoded in a thread while the current one is written (the writes wait on the
server, which leaves the interpreter free)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

Events = list[tuple[Notification, Any]]


class BatchReader:
    def __init__(self, app: Application[UUID], size: int, ahead: bool) -> None:
        self.app = app
        self.size = size
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="projections") if ahead else None
        self._next: tuple[int, Future[Events]] | None = None

    def read(self, start: int, stop: int | None) -> Events:
        """The decoded events after `start`, at most a batch (and up to `stop`). A batch
        read ahead counts only if it starts at `start`, where the views stand now."""
        pending, self._next = self._next, None
        events = (
            pending[1].result()
            if pending is not None and pending[0] == start
            else self._decoded(start, stop)
        )
        if self._pool is not None and len(events) == self.size:
            after = events[-1][0].id
            self._next = (after, self._pool.submit(self._decoded, after, stop))
        return events

    def _decoded(self, start: int, stop: int | None) -> Events:
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.size, stop=stop, inclusive_of_start=False
        )
        return [(n, self.app.mapper.to_domain_event(n)) for n in notifications]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
