"""The eventsourcing library's environment for the configured database, and recorders
that write the inline views inside the events' insert transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic, retry
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier

from application.ports import SqlCursor
from infrastructure.held_sessions import Held, held_by, unlock_sql
from infrastructure.idle_drops import live
from infrastructure.literals import literals
from infrastructure.notification_reads import NotificationReads
from infrastructure.prepared import NOT_PREPARED, PreparedStatements
from infrastructure.settings import Settings
from infrastructure.snapshot_recorder import ExperiPostgresFactory


class InlineWriter(Protocol):
    def prepare(self, stored: Sequence[StoredEvent]) -> Any: ...

    def write(
        self,
        cur: SqlCursor,
        stored: Sequence[StoredEvent],
        seqs: Sequence[tuple[str, tuple[Any, ...]]],
        prepared: Any,
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


def _rendered(query: Any) -> str:
    return query if isinstance(query, str) else str(query.as_string())


# SQLSTATEs that say the server rolled the transaction back and nothing committed.
ROLLED_BACK = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
ROLLED_BACK_ATTEMPTS = 5


class InlinePostgresRecorder(PostgresApplicationRecorder):
    inline: InlineWriter | None = None
    # The database whose numbering locks this store's saves and reads follow onto the
    # lock's session (held_sessions.py); set by the composition root.
    shared_locks: object | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The library keeps its statements as psycopg Composed objects, which psycopg
        # renders again on every execute; each save runs four of them. Rendered once here.
        schema = Identifier(self.datastore.schema)
        self.insert_events_statement = _rendered(self.insert_events_statement)  # type: ignore[assignment]
        self.lock_table_statements = [_rendered(q) for q in self.lock_table_statements]
        self._lock_sql = [_rendered(q) for q in self.lock_table_statements]
        self._notify = SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_string()
        self._search_path = SQL("SET LOCAL search_path TO {0}").format(schema).as_string()
        self._prepared = PreparedStatements()  # the script's statements, per connection
        events = Identifier(self.datastore.schema, self.events_table_name).as_string()
        # Rows are numbered in the order of their VALUES, as the library's unnest does.
        self._insert_events_sql = (
            f"INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "VALUES {values} RETURNING notification_id"
        )
        self._lookup = (
            f"(SELECT notification_id FROM {events} "
            "WHERE originator_id = ? AND originator_version = ?)"
        )
        self._reads = NotificationReads(events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        with self.datastore.get_connection() as conn:
            return self._reads.select(conn, start, limit, stop, topics, inclusive_of_start)

    def select_events(self, originator_id: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        # An aggregate read from its events under a numbering lock (a retry) is read
        # once the lock is granted, like the reads that go on the lock's session.
        held = held_by(self.shared_locks)
        if held is not None:
            held.ensure_locked()
        events: Sequence[StoredEvent] = super().select_events(originator_id, **kwargs)
        return events

    def _notify_channel(self, curs: Any) -> None:
        curs.execute(self._notify)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.inline is None or not stored_events:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        # The views' rows are worked out before the transaction: the event table's lock
        # serialises every writer of every account, so under it only statements run.
        inserted: list[int] = self._insert_with_views(
            stored_events, self.inline.prepare(stored_events)
        )
        return inserted

    def _insert_with_views(self, stored_events: Sequence[StoredEvent], prepared: Any) -> list[int]:
        """The events and their views' rows as one script: BEGIN, the lock, the events,
        the rows (which find their events' notification ids in SQL), COMMIT, sent in
        one message (or, with large values, pipelined with the values bound). The
        event table's lock serialises every writer of every account, so it is held for
        the server's work alone: statement by statement, each send
        waits for this thread to wake, and psycopg's `transaction()` syncs before its
        COMMIT. A version conflict skips the rest, COMMIT included, and raises
        IntegrityError here; the aborted block is rolled back. The script goes again
        only when the server says it rolled it back (a deadlock, a serialisation
        failure), never after a lost connection or a lock timeout (the library retries
        its own saves on any OperationalError): a connection lost after the script went
        out may have committed it, and a second run would then meet its own events as a
        conflict, which the command would run again."""
        assert self.inline is not None
        script = _Script()
        script.execute("BEGIN")
        # The view tables live in the store's schema, which the library's own
        # connections do not search.
        script.execute(self._search_path)
        script.execute(self._notify)
        for statement in self._lock_sql:
            script.execute(statement)
        inserted = len(script.statements)
        values = ", ".join("(?, ?, ?, ?)" for _ in stored_events)
        script.execute(
            self._insert_events_sql.format(values=values),
            [v for e in stored_events for v in (e.originator_id, e.originator_version,
                                                e.topic, e.state)],
        )  # fmt: skip
        seqs = [(self._lookup, (e.originator_id, e.originator_version)) for e in stored_events]
        self.inline.write(script, stored_events, seqs, prepared)
        script.execute("COMMIT")
        held = held_by(self.shared_locks)
        if held is not None:
            # On the session holding the account's numbering lock, which the script
            # gives back right after its COMMIT, in the same message.
            script.execute(unlock_sql(held.key))
        for attempt in range(1, ROLLED_BACK_ATTEMPTS + 1):
            with self.save_connection(held) as conn:
                try:
                    if held is not None:
                        held.ensure_locked()  # a save with no read under the lock
                    ids = self._send_prepared(conn, script, inserted)
                    if held is not None:
                        held.released = True
                    return ids
                except psycopg.OperationalError as error:
                    # Chosen as a deadlock's victim (a process creating its tables at
                    # start-up, say) or a serialisation failure: the server rolled the
                    # block back, so nothing of it committed and it may go again.
                    if error.sqlstate not in ROLLED_BACK or attempt == ROLLED_BACK_ATTEMPTS:
                        raise
                finally:
                    self._reset(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    def save_connection(self, held: Held | None) -> AbstractContextManager[Any]:
        """The connection a save goes on: the session holding the numbering lock, or
        one of the store's own."""
        if held is not None:
            return _as_store_errors(held.conn)
        return live(self.datastore.pool, self.datastore.get_connection)

    def _send_prepared(self, conn: Any, script: _Script, inserted: int) -> list[int]:
        """Send the script, its statements prepared on `conn` first. A connection can
        lose them without this process knowing: psycopg deallocates every prepared
        statement of a connection it rolls back once it has prepared some of its own
        there (and DISCARD ALL does too). The script then stops at its first EXECUTE,
        before COMMIT, and goes again on this connection once they are prepared anew."""
        small = script.size() <= SCRIPT_BYTES  # else pipelined with its values bound
        for again in (False, True):
            names = (
                self._prepared.names(conn, script.statements, self._search_path) if small else None
            )
            try:
                return _send(conn, script, inserted, names)
            except psycopg.ProgrammingError as error:
                if error.sqlstate != NOT_PREPARED or again:
                    raise
                self._reset(conn)  # the script's aborted block: rolled back, forgotten
        raise AssertionError("unreachable")  # pragma: no cover

    def _reset(self, conn: Any) -> None:
        if conn.pgconn.transaction_status != TransactionStatus.IDLE:
            conn.rollback()  # an aborted block: nothing stays
            self._prepared.forget(conn)  # psycopg's rollback may deallocate them all


# How the store's own connections (`datastore.get_connection`) report the driver's errors.
_STORE_ERRORS: tuple[tuple[type[psycopg.Error], type[Exception]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
    (psycopg.Error, persistence.PersistenceError),
)


@contextmanager
def _as_store_errors(conn: Any) -> Iterator[Any]:
    """`conn`, its errors raised as the store's own connections raise them."""
    try:
        yield conn
    except psycopg.Error as error:
        raised = next(ours for raw, ours in _STORE_ERRORS if isinstance(error, raw))
        raise raised(str(error)) from error


# Above this many bytes of values, a save's statements go in a pipeline with their
# values bound (binary, no quoting, no parsing of literals) rather than as one script:
# an invoice with 1,000 payments took 14.6 ms to pay as a script and 8.7 ms bound.
SCRIPT_BYTES = 32_768


def _send(
    conn: Any, script: _Script, inserted: int, names: Sequence[str | None] | None
) -> list[int]:
    """Send the save's statements, as one script (each statement with a name as the
    EXECUTE of the statement prepared under it) or, with `names` None, pipelined with
    their values bound; the notification ids of statement `inserted`."""
    if names is not None:
        with conn.cursor(row_factory=dict_row) as curs:
            curs.execute(script.text(ClientCursor(conn), names))
            for _ in range(inserted):
                curs.nextset()
            return [row["notification_id"] for row in curs.fetchall()]
    # BEGIN and COMMIT are the script's own: psycopg's `transaction()` would sync (and
    # wait for the replies) before it sent COMMIT, with the event table locked.
    ids = conn.cursor(row_factory=dict_row)
    with conn.pipeline(), conn.cursor() as curs:
        for i, (sql, params) in enumerate(script.statements):
            (ids if i == inserted else curs).execute(sql, params or None)
    return [row["notification_id"] for row in ids.fetchall()]


class _Script:
    """Statements gathered to be sent as one (a SqlCursor that only writes)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.statements.append((sql.replace("?", "%s"), tuple(params)))

    def fetchone(self) -> tuple[Any, ...] | None:
        raise TypeError("a script is sent whole: nothing can be read back in it")

    def fetchall(self) -> list[tuple[Any, ...]]:
        raise TypeError("a script is sent whole: nothing can be read back in it")

    def size(self) -> int:
        """Bytes of text and binary values, roughly what quoting them would cost."""
        return sum(
            len(v) for _, params in self.statements for v in params if isinstance(v, str | bytes)
        )

    def text(self, quoting: ClientCursor[Any], names: Sequence[str | None]) -> str:
        """The statements with their parameters quoted as literals, as psycopg quotes
        them; each with a name is the EXECUTE of the statement prepared under it."""
        return ";\n".join(
            _statement(quoting, sql, params, name)
            for (sql, params), name in zip(self.statements, names, strict=True)
        )


def _statement(
    quoting: ClientCursor[Any], sql: str, params: tuple[Any, ...], name: str | None
) -> str:
    if not params:
        return sql
    if name is None:
        return quoting.mogrify(sql, params)
    written = literals(params)
    if written is None:  # a value of another type: psycopg quotes them all
        return quoting.mogrify(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params)
    return f"EXECUTE {name}({', '.join(written)})"


class InlineSQLiteRecorder(SQLiteApplicationRecorder):
    inline: InlineWriter | None = None

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.inline is not None:
            kwargs["prepared"] = self.inline.prepare(stored_events)
        return super().insert_events(stored_events, **kwargs)

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], prepared: Any = None, **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.inline is not None and ids:
            seqs = [("?", (i,)) for i in ids]
            self.inline.write(_SQLiteCursor(c), stored_events, seqs, prepared)
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
        "PERSISTENCE_MODULE": get_topic(ExperiPostgresFactory),
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
