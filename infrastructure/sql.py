"""Plain-SQL access to the event store's database, on SQLite or PostgreSQL."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import psycopg
from eventsourcing.persistence import InterfaceError as EsInterfaceError
from eventsourcing.persistence import OperationalError as EsOperationalError
from psycopg_pool import ConnectionPool, PoolTimeout

from infrastructure.async_reads import AsyncReads
from infrastructure.held_sessions import LOCK_SQL, Held, held_by, holding, unlock_sql
from infrastructure.idle_drops import live
from infrastructure.settings import PostgresParams, Settings

# What a database that is down, restarting or overloaded raises: the request may be
# retried once it is back (503), unlike a bug (500).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    EsOperationalError,
    EsInterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
    sqlite3.OperationalError,
)
_SQLITE_BUSY = ("locked", "busy", "unable to open", "disk i/o")


def is_unavailable(error: BaseException) -> bool:
    """True for a database that cannot be reached or is busy; False for a bug (a missing
    table, bad SQL), which must be a 500 with its traceback logged, not a "retry"."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, sqlite3.OperationalError):
            return any(word in str(cause).lower() for word in _SQLITE_BUSY)
        if isinstance(cause, psycopg.Error | PoolTimeout):
            return isinstance(
                cause, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout
            )
        cause = cause.__cause__
    return isinstance(error, UNAVAILABLE_ERRORS)


STARTUP_LOCK = UUID("6e2f8a4c-0b1d-4c39-9a57-3f1e2d4b5c60")  # setting a store up


class SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]


class SQLiteDatabase:
    """One connection per thread; `BEGIN IMMEDIATE` when a lock is asked for, which
    serialises writers across processes (SQLite has one writer at a time anyway)."""

    dialect = "sqlite"

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    @contextmanager
    def starting(self) -> Iterator[None]:
        """One process or thread at a time creates the tables and sets up the store:
        on a new file, connections switching it to WAL at once fail with "database is
        locked" before any busy timeout applies. A lock on a file beside the database
        (flock: each open file conflicts, in this process too)."""
        with open(self.path.with_name(self.path.name + ".start"), "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    @contextmanager
    def transaction(self, *, lock: str | tuple[str, ...] | None = None) -> Iterator[SQLiteCursor]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE" if lock else "BEGIN")
        try:
            yield SQLiteCursor(cursor)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cursor.close()

    def statement(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """SQLite has no async driver: the read runs in a worker thread."""
        return await anyio.to_thread.run_sync(self.rows, sql, params)

    async def open_reads(self) -> None:
        pass

    async def close_reads(self) -> None:
        pass

    def close(self) -> None:
        with self._guard:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class PostgresCursor:
    def __init__(self, cursor: Any, types: dict[str, dict[str, int]] | None = None) -> None:
        self._cursor = cursor
        self._types = {} if types is None else types  # table -> column -> type, as read

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]

    def copy_new_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> bool:
        """COPY in binary, in a savepoint. The server parses no SQL, no JSON and no text
        per row (an INSERT of 2,000 rows from one JSON parameter spent about half its
        time parsing it). A stream is only a faster INSERT: whatever stops it (a unique
        key met again; a value or a column type it cannot send as they are, where the
        INSERT would convert) undoes it alone and returns False, for the INSERT."""
        types = self._column_types(table, columns)
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        # Plain statements: psycopg's nested transaction composes its SQL each time.
        self._cursor.execute("SAVEPOINT copy_new_rows")
        try:
            with self._cursor.copy(statement) as copy:
                copy.set_types([types[name] for name in columns])
                for row in rows:
                    copy.write_row(row)
        except Exception:
            # Raises in turn if the connection is gone (a transient error, as before).
            self._cursor.execute("ROLLBACK TO SAVEPOINT copy_new_rows")
            self._cursor.execute("RELEASE SAVEPOINT copy_new_rows")
            self._types.pop(table, None)  # read again next time: the table may have changed
            return False
        self._cursor.execute("RELEASE SAVEPOINT copy_new_rows")
        return True

    def _column_types(self, table: str, columns: Sequence[str]) -> dict[str, int]:
        """The type of each of the table's columns (its oid), as the database has it;
        read once per table, and again after a stream into it failed."""
        types = self._types.get(table)
        if types is None or not all(name in types for name in columns):
            self._cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            )
            types = self._types[table] = {str(n): int(t) for n, t in self._cursor.fetchall()}
        return types


class PostgresDatabase:
    """A small psycopg pool; locks are transaction-scoped advisory locks."""

    dialect = "postgresql"

    def __init__(
        self,
        params: PostgresParams,
        max_size: int = 10,
        lock_size: int = 20,
        statement_size: int = 5,
    ) -> None:
        self.params = params
        self.pool = ConnectionPool(
            params.conninfo(), min_size=1, max_size=max_size, open=True, timeout=30
        )
        # Single statements commit on their own, in one round trip, without waiting
        # for the WAL flush: for counters, whose loss in a crash is harmless.
        self.autocommit_pool = ConnectionPool(
            params.conninfo(extra_options="-c synchronous_commit=off"),
            min_size=1,
            max_size=statement_size,
            open=True,
            timeout=30,
            kwargs={"autocommit": True},
        )
        self.reads = AsyncReads(params.conninfo(), self.rows)
        self.column_types: dict[str, dict[str, int]] = {}  # see PostgresCursor
        # Connections that hold session locks for the length of a command; a pool of
        # their own, so that waiting writers never starve reads of connections.
        self.lock_pool = ConnectionPool(
            params.conninfo(),
            min_size=1,
            max_size=lock_size,
            open=True,
            timeout=30,
            kwargs={"autocommit": True},
        )

    def statement(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        held = held_by(self)
        if held is not None:
            found = self._on_held(held, sql, params, binary=False)
            return found[0] if found else None
        with live(self.autocommit_pool) as conn, conn.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            row = cursor.fetchone() if cursor.description else None
            return tuple(row) if row is not None else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One round trip: no BEGIN and COMMIT around a single read. Results come in
        binary form: stored documents arrive as they are, not hex-encoded and decoded."""
        held = held_by(self)
        if held is not None:
            return self._on_held(held, sql, params, binary=True)
        with live(self.autocommit_pool) as conn, conn.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(params), binary=True)
            return [tuple(row) for row in cursor.fetchall()]

    def _on_held(
        self, held: Held, sql: str, params: Sequence[Any], *, binary: bool
    ) -> list[tuple[Any, ...]]:
        """A read on the session holding the lock; the first one after the lock is sent
        with it, in one round trip: the server takes the lock, then reads."""
        conn = held.conn
        with conn.cursor() as cursor:
            if held.sent:
                cursor.execute(sql.replace("?", "%s"), tuple(params), binary=binary)
            else:
                held.sent = True
                with conn.pipeline():
                    conn.execute(LOCK_SQL, (held.key,))
                    cursor.execute(sql.replace("?", "%s"), tuple(params), binary=binary)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self.reads.rows(sql, params)

    async def open_reads(self) -> None:
        """Open this event loop's read pool (the server's lifespan does, per process)."""
        await self.reads.open()

    async def close_reads(self) -> None:
        await self.reads.close()

    @contextmanager
    def transaction(self, *, lock: str | tuple[str, ...] | None = None) -> Iterator[PostgresCursor]:
        with live(self.pool) as conn, conn.transaction(), conn.cursor() as cursor:
            for name in (lock,) if isinstance(lock, str) else lock or ():
                key = zlib.crc32(f"{self.params.schema}:{name}".encode())
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            yield PostgresCursor(cursor, self.column_types)

    @contextmanager
    def starting(self) -> Iterator[None]:
        """One process at a time creates the tables and sets up the store: concurrent
        CREATE TABLE IF NOT EXISTS of one new table, or CREATE OR REPLACE FUNCTION,
        fail ("tuple concurrently updated", a duplicate pg_type key)."""
        lock = _lock_key(STARTUP_LOCK)
        with live(self.lock_pool) as conn:
            conn.execute(LOCK_SQL, (lock,))
            try:
                yield
            finally:
                _unlock(conn, lock)

    @contextmanager
    def hold(self, key: UUID) -> Iterator[None]:
        """A session advisory lock on `key`, shared by every process on this database
        (the SharedLocks port): writers of one hot aggregate queue on it in turn. The
        block's reads and save go on the session holding it, which asks for the lock
        with the first of them and gives it back with the save (held_sessions.py)."""
        lock = _lock_key(key)
        with live(self.lock_pool) as conn:
            held = Held(conn, lock, self)
            try:
                with holding(held):
                    yield
            finally:
                if held.sent and not held.released:
                    _unlock(conn, lock)

    def close(self) -> None:
        self.pool.close()
        self.autocommit_pool.close()
        self.lock_pool.close()


def _lock_key(key: UUID) -> int:
    """A session advisory lock's key for `key`: its first 8 bytes, signed."""
    return int.from_bytes(key.bytes[:8], "big", signed=True)


def _unlock(conn: Any, lock: int) -> None:
    try:
        conn.execute(unlock_sql(lock))
    except psycopg.Error:
        # The command's outcome stands; ending the session frees its locks.
        conn.close()


def open_database(settings: Settings) -> SQLiteDatabase | PostgresDatabase:
    if settings.dialect == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteDatabase(settings.sqlite_path)
    return PostgresDatabase(settings.postgres)
