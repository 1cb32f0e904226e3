"""Pooled connections the server closed while they sat idle, found before use.

A PostgreSQL restart or failover, `pg_terminate_backend`, or an idle-session timeout
ends every idle session: the server writes a FATAL message to each and closes it. A
pool hands such a connection out as if it were sound, and the request on it failed
with a 503 (one per pooled connection, for a while after the database was back).

The server sends nothing to an idle session of ours but that (no pooled connection
LISTENs), so a socket with something to read before anything is sent, and then
nothing more but its end, says the session is gone. Testing a sound connection costs
one `select` with no wait (about a microsecond), not a round trip. Nothing was sent on
the dropped connection, so taking another is safe for any statement, a save included.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.pq import ConnStatus

C = TypeVar("C")

# How long a checkout after a dropped connection waits for the pool (which may have to
# open a new one) before the request gets its 503 (with `Retry-After: 1`).
AFTER_DROP_WAIT = 1.0
# How many dropped connections one checkout skips before it uses what it is given
# (then a failure is the 503 it always was): more than any of our pools holds.
MAX_SKIPPED = 64


def dropped(conn: Any) -> bool:
    """Whether the server has ended `conn`'s session since its last reply: its socket
    holds the server's farewell and then its end. Bytes that are not an ending (a TLS
    record, a parameter report) are read and the connection is kept."""
    if conn.closed:
        return True
    pgconn = conn.pgconn
    try:
        for _ in range(3):  # the farewell, then the end, which no read can consume
            if not select.select([pgconn.socket], [], [], 0)[0]:
                return False
            pgconn.consume_input()
            if pgconn.status != ConnStatus.OK:
                return True
    except (OSError, ValueError, psycopg.Error):  # the end read, or no socket any more
        return True
    return True  # still more to read from a session that should be quiet


@contextmanager
def live(
    connect: Callable[[], AbstractContextManager[C]],
    again: Callable[[], AbstractContextManager[C]] | None = None,
) -> Iterator[C]:
    """A connection from `connect` (a pool's `connection`) that the server has not
    closed while it was idle. Each dropped one is closed, so that the pool replaces it,
    and the next is taken with `again` (by default `connect`): a pool that must open a
    new one should wait for it only briefly, since a database that has just ended its
    sessions may still be down, and a request should then get its 503 at once."""
    for _ in range(MAX_SKIPPED):
        with connect() as conn:
            if not dropped(conn):
                yield conn
                return
            conn.close()  # type: ignore[attr-defined]
        connect = again or connect
    with connect() as conn:
        yield conn
