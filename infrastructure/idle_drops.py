"""Pooled connections the server closed while they sat idle, found before use.

A PostgreSQL restart or failover, `pg_terminate_backend`, or an idle-session timeout
ends every idle session: the server writes a FATAL message to each and closes it. A
pool hands such a connection out as if it were sound, and the request on it failed
with a 503 (one per pooled connection, for a while after the database was back).

Before a pooled connection is used, a `select` with no wait looks whether anything
has come to it since its last reply (about a microsecond, not a round trip); only then
is it read, to find the server's FATAL farewell. Nothing was sent on the dropped
connection, so taking another is safe for any statement, a save included.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from psycopg_pool import ConnectionPool

# The severities of an error with which the server ends a session.
FAREWELLS = frozenset({"FATAL", "PANIC"})
# How long a checkout after a dropped connection waits for the pool (which may have to
# open a new one) before the request gets its 503 (with `Retry-After: 1`).
AFTER_DROP_WAIT = 1.0
# How many dropped connections one checkout skips before it uses what it is given
# (then a failure is the 503 it always was): more than any of our pools holds.
MAX_SKIPPED = 64


def dropped(conn: Any) -> bool:
    """Whether the server has ended `conn`'s session since its last reply. What came is
    read and parsed: libpq gives an error that reaches an idle session to the notice
    handlers, and a FATAL one is the server's farewell, whether or not the socket's end
    has arrived yet. Anything else (a notification, a TLS record) leaves it in use."""
    if conn.closed:
        return True
    pgconn = conn.pgconn
    try:
        if not select.select([pgconn.socket], [], [], 0)[0]:
            return False
        severities: list[str | None] = []

        def heard(diagnostic: Any) -> None:  # read now: the result is freed after
            severities.append(diagnostic.severity_nonlocalized)

        conn.add_notice_handler(heard)
        try:
            pgconn.consume_input()
            pgconn.is_busy()  # parses what came
        finally:
            conn.remove_notice_handler(heard)
    except (OSError, ValueError, psycopg.Error):  # the end read, or no socket any more
        return True
    return pgconn.status != ConnStatus.OK or bool(FAREWELLS.intersection(severities))


@contextmanager
def live(
    pool: ConnectionPool[Any], connect: Callable[[], AbstractContextManager[Any]] | None = None
) -> Iterator[Any]:
    """A connection of `pool` (taken with `connect`, by default `pool.connection`) that
    the server has not closed while it was idle. Each dropped one is closed, so that the
    pool replaces it, and the next is waited for at most `AFTER_DROP_WAIT`: a database
    that has just ended its sessions may still be down, and a request should then get
    its 503 at once."""
    take = connect or pool.connection
    for _ in range(MAX_SKIPPED):
        with take() as conn:
            if not dropped(conn):
                yield conn
                return
            conn.close()
        take = partial(pool.connection, timeout=AFTER_DROP_WAIT)
    with take() as conn:
        yield conn
