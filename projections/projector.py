"""Follows the event store's notification log into the view tables, exactly once.

Each batch of events and the new tracking position commit in one transaction, under
a lock shared by every process, so a view never misses or repeats an event. Commands
call `catch_up()` after they save, and list queries call it before they read, which
makes every list consistent with every write that has had a response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from application.ports import SqlCursor, SqlDatabase

BATCH = 500


class View(Protocol):
    tables: Sequence[str]

    def create_statements(self, dialect: str) -> list[str]: ...

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None: ...


class Projector:
    def __init__(self, db: SqlDatabase, app: Application[UUID], views: Sequence[View]) -> None:
        self.db = db
        self.app = app
        self.views = views

    def setup(self) -> None:
        with self.db.transaction(lock="projections") as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS projection_tracking "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            for view in self.views:
                # A view added to an existing store starts from the first event.
                cur.execute(
                    "INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name_of(view),),
                )
                for statement in view.create_statements(self.db.dialect):
                    cur.execute(statement)

    def position(self) -> int:
        """How far every view has got (the least of their positions)."""
        with self.db.transaction() as cur:
            return min(self._positions(cur).values(), default=0)

    def _positions(self, cur: SqlCursor) -> dict[str, int]:
        cur.execute("SELECT name, position FROM projection_tracking")
        known = {str(name): int(position) for name, position in cur.fetchall()}
        return {name_of(view): known.get(name_of(view), 0) for view in self.views}

    def catch_up(self) -> None:
        """Apply every stored event the views have not seen yet."""
        latest = self.app.recorder.max_notification_id() or 0
        if self.position() >= latest:
            return
        while self._apply_batch():
            pass

    def _apply_batch(self) -> bool:
        with self.db.transaction(lock="projections") as cur:
            positions = self._positions(cur)
            start = min(positions.values(), default=0)
            notifications = self.app.recorder.select_notifications(
                start=start, limit=BATCH, inclusive_of_start=False
            )
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                for view in self.views:
                    if positions[name_of(view)] < notification.id:
                        view.apply(cur, event, notification)
            if notifications:
                last = notifications[-1].id
                for view in self.views:
                    if positions[name_of(view)] < last:
                        cur.execute(
                            "UPDATE projection_tracking SET position = ? WHERE name = ?",
                            (last, name_of(view)),
                        )
            return len(notifications) == BATCH

    def rebuild(self) -> None:
        """Empty the views and apply the whole event stream again."""
        with self.db.transaction(lock="projections") as cur:
            for view in self.views:
                for table in view.tables:
                    cur.execute(f"DELETE FROM {table}")
            cur.execute("UPDATE projection_tracking SET position = 0")
        self.catch_up()


def name_of(view: View) -> str:
    return type(view).__name__
