"""Events the following views could not apply, set aside so that the rest go on.

One event that a view cannot apply (a bug meeting data it did not expect, an event it
cannot decode) used to stop every following view at it, for good: the audit log, the
account chains and the email outbox of every account. Now the projector applies that
batch again one event at a time, and the event that fails alone is recorded here with
its error, logged, and passed over by those views; the events after it go on. A
rebuild (`experi projections rebuild`), run once the fault is fixed, applies every
event again, these included, and clears the record. A database that is unreachable
is not such a failure: its batch is simply tried again later. Nor is a fault that fails
every event (a table gone, say): once `LIMIT` events are set aside, the views stop at
the next one that fails, as they did before, rather than pass over everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import SqlCursor

TABLE = "projection_failures"
LIMIT = 20  # events set aside before the views stop at a failing one instead
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (seq BIGINT PRIMARY KEY, views TEXT NOT NULL, "
    "error TEXT NOT NULL, failed_at TEXT NOT NULL)"
)


@dataclass(frozen=True)
class Failure:
    seq: int  # the event's notification id
    views: tuple[str, ...]  # the views that passed over it
    error: str
    failed_at: str


def record(cur: SqlCursor, failure: Failure) -> None:
    cur.execute(
        f"INSERT INTO {TABLE} (seq, views, error, failed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (seq) DO NOTHING",
        (failure.seq, ",".join(failure.views), failure.error[:2000], failure.failed_at),
    )


def count(cur: SqlCursor) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {TABLE}")
    row = cur.fetchone()
    return int(row[0]) if row else 0


def listed(cur: SqlCursor) -> list[Failure]:
    cur.execute(f"SELECT seq, views, error, failed_at FROM {TABLE} ORDER BY seq")
    return [
        Failure(int(seq), tuple(str(views).split(",")), str(error), str(at))
        for seq, views, error, at in cur.fetchall()
    ]


def clear(cur: SqlCursor) -> None:
    """Forget them all (a rebuild applied every event to every view again)."""
    cur.execute(f"DELETE FROM {TABLE}")
