"""The eventsourcing library's environment for the configured database, and recorders
that write the inline views inside the events' insert transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from application.ports import SqlCursor
from infrastructure.settings import Settings


class InlineWriter(Protocol):
    def write(
        self, cur: SqlCursor, stored: Sequence[StoredEvent], ids: Sequence[int] | None
    ) -> None: ...


class _SQLiteCursor:
    """The library's SQLite cursor as a SqlCursor (only writes are needed)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]


class _PostgresCursor:
    """The library's psycopg cursor (dict rows, `%s` markers) as a SqlCursor."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row.values())

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._cursor.fetchall()]


class InlinePostgresRecorder(PostgresApplicationRecorder):
    inline: InlineWriter | None = None

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Still inside the insert transaction (and the table lock), once the events'
        # notification ids are known.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if self.inline is not None:
            # The view tables live in the store's schema, which the library's own
            # connections do not search; pipelined, this costs no round trip.
            curs.execute(
                SQL("SET LOCAL search_path TO {0}").format(Identifier(self.datastore.schema))
            )
            self.inline.write(_PostgresCursor(curs), stored_events, ids)
        return ids


class InlineSQLiteRecorder(SQLiteApplicationRecorder):
    inline: InlineWriter | None = None

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.inline is not None:
            self.inline.write(_SQLiteCursor(c), stored_events, ids)
        return ids


def event_store_env(settings: Settings) -> dict[str, str]:
    if settings.dialect == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(InlineSQLiteRecorder),
        }
    pg = settings.postgres
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        "POSTGRES_SCHEMA": pg.schema,
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
        # Never the database functions: they skip the table lock, which lets readers
        # miss events under concurrent writes.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
        "APPLICATION_RECORDER_TOPIC": get_topic(InlinePostgresRecorder),
    }
