"""The event log read a page at a time, as the library reads it, with rows fetched as
tuples in binary: an event's bytes arrive as they are stored, not as hex text that the
server makes and the client parses back (each of a rebuild's processes reads every
event; this halved the client's time per event read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Notification
from psycopg.rows import tuple_row


class NotificationReads:
    def __init__(self, table: str) -> None:
        self.table = table  # quoted and schema-qualified
        self._statements: dict[tuple[bool, bool, bool, bool], str] = {}

    def select(
        self,
        conn: Any,
        start: int | None,
        limit: int,
        stop: int | None,
        topics: Sequence[str],
        inclusive_of_start: bool,
    ) -> list[Notification]:
        """What the library's `select_notifications` returns for the same arguments."""
        shape = (start is not None, inclusive_of_start, stop is not None, bool(topics))
        params: list[Any] = [v for v in (start, stop) if v is not None]
        if topics:
            if isinstance(topics, str):  # the library refuses one too (an assertion)
                raise TypeError("topics must be a sequence of topic strings")
            params.append(list(topics))
        params.append(limit)
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(self._statement(shape), params, prepare=True, binary=True)
            return [
                Notification(
                    originator_id=row[1],
                    originator_version=row[2],
                    topic=row[3],
                    state=row[4] if type(row[4]) is bytes else bytes(row[4]),
                    id=row[0],
                )
                for row in cur.fetchall()
            ]

    def _statement(self, shape: tuple[bool, bool, bool, bool]) -> str:
        found = self._statements.get(shape)
        if found is None:
            has_start, inclusive, has_stop, has_topics = shape
            where = []
            if has_start:
                where.append(f"notification_id {'>=' if inclusive else '>'} %s")
            if has_stop:
                where.append("notification_id <= %s")
            if has_topics:
                where.append("topic = ANY(%s)")
            found = self._statements[shape] = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {self.table}"
                + (f" WHERE {' AND '.join(where)}" if where else "")
                + " ORDER BY notification_id LIMIT %s"
            )
        return found
