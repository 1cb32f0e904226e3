"""Snapshots stored on PostgreSQL with their states sent as binary parameters.

The library inserts stored events as an array of a composite type, which psycopg sends
as escaped text: for the 224 KB snapshot of an invoice with 1,000 payments that took
11.4 ms, against 2.5 ms for one INSERT with the state as a binary parameter. A
snapshot is taken after a commit, in the thread of the request that made it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresFactory
from psycopg.errors import LockNotAvailable
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from infrastructure.settings import LIVENESS, SERVER_LIVENESS
from infrastructure.sql import PostgresCursor
from projections.toast import prefer_lz4

log = logging.getLogger("experi.store")


class SnapshotRecorder(PostgresAggregateRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._insert_head = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) VALUES "
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        # One statement for all of them, as the library's: stored together or not at all.
        values = SQL(", ").join([SQL("(%s, %s, %s, %b)")] * len(stored_events))
        curs.execute(
            Composed([self._insert_head, values]),
            [
                v
                for e in stored_events
                for v in (e.originator_id, e.originator_version, e.topic, bytes(e.state))
            ],
        )

    def create_table(self) -> None:
        super().create_table()
        # States compress with lz4 where the server has it, as the views' large columns
        # do: pglz took 6.1 ms of the insert of a 299 KB snapshot, lz4 2.6 ms.
        # The switch waits at most 2 s for the table (a dump holding it, say): snapshots
        # stay as they are until a later start makes it.
        with self.datastore.get_connection() as conn:
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '2s'")
                    cursor = PostgresCursor(conn.cursor(row_factory=tuple_row))
                    prefer_lz4(cursor, [self.events_table_name], self.datastore.schema)
            except LockNotAvailable:
                log.warning("the snapshots table was busy: its states stay with pglz for now")


class ExperiPostgresFactory(PostgresFactory):
    """The library's PostgreSQL persistence, with snapshots stored as above, and its
    sessions kept alive and bounded as the rest of the server's (`LIVENESS`)."""

    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        # The pool opens at its first use, with these added to its connection kwargs.
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs.update(LIVENESS, options=SERVER_LIVENESS)
