"""The save script's statements, prepared once per connection and run as EXECUTE.

A small save goes to PostgreSQL as one message of SQL with literal values (see
`eventstore.py`), which the server parses and plans statement by statement on every
save, under the event table's lock. For a new invoice, planning the audit links, the
feed row and the two view upserts was about half of the script's 0.75 ms. Each distinct
statement (by its text) is prepared on a connection the first time that connection
sends it, in a transaction of its own before the script (a prepared statement outlives
a rolled-back transaction, so it is never made inside the script). The script then says
`EXECUTE name(values)`: the same values, the same rows, planned once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

import psycopg

MAX_STATEMENTS = 64  # distinct statements prepared per recorder; others go as they are
MAX_PARAMS = 64  # a statement with more values (a long save's VALUES) goes as it is
# The server forgot a statement this process prepared (DISCARD, DEALLOCATE): the script
# failed at that EXECUTE, before its COMMIT, so it may go again once prepared anew.
NOT_PREPARED = "26000"  # invalid_sql_statement_name
_PLACEHOLDER = re.compile(r"%[s%]")


def numbered(sql: str) -> str:
    """psycopg's `%s` placeholders as PostgreSQL's `$1, $2, ...` (and `%%` as `%`)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


class PreparedStatements:
    """Which statements a recorder prepares, and which of its connections holds which."""

    def __init__(self) -> None:
        self._names: dict[str, str | None] = {}  # text -> name; None: not preparable
        self._held: WeakKeyDictionary[Any, set[str]] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def _name(self, sql: str, params: Sequence[Any]) -> str | None:
        if not params or len(params) > MAX_PARAMS:
            return None
        with self._lock:
            if sql not in self._names:
                if len(self._names) >= MAX_STATEMENTS:
                    return None
                self._names[sql] = f"experi_{len(self._names)}"
            return self._names[sql]

    def names(
        self, conn: Any, statements: Sequence[tuple[str, tuple[Any, ...]]], search_path: str
    ) -> list[str | None]:
        """Each statement's name on `conn` (None: sent as it is), preparing there, with
        `search_path` (the store's schema), what it does not hold yet."""
        with self._lock:
            held = self._held.setdefault(conn, set())
        names = []
        for sql, params in statements:
            name = self._name(sql, params)
            if name is not None and name not in held:
                if self._prepare(conn, name, sql, search_path):
                    held.add(name)
                else:
                    name = None
            names.append(name)
        return names

    def _prepare(self, conn: Any, name: str, sql: str, search_path: str) -> bool:
        # One message without BEGIN: an implicit transaction, which the server ends by
        # itself if the PREPARE fails, so the connection needs no rollback (psycopg's
        # rollback would deallocate every statement prepared on it).
        try:
            conn.execute(f"{search_path}; PREPARE {name} AS {numbered(sql)}")
        except psycopg.errors.DuplicatePreparedStatement:
            pass  # this connection has it (a name is one text per recorder)
        except (psycopg.ProgrammingError, psycopg.DataError, psycopg.NotSupportedError):
            # Its values' types cannot be told from the statement alone: it goes as is.
            with self._lock:
                self._names[sql] = None
            return False
        return True

    def forget(self, conn: Any) -> None:
        """`conn` may hold none of them any more (see NOT_PREPARED)."""
        with self._lock:
            self._held.pop(conn, None)
