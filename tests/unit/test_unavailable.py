"""Which database errors are an outage (503, retry) and which are bugs (500, logged)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError
from psycopg_pool import PoolTimeout

from infrastructure.sql import is_unavailable


def wrapped(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        wrapped(OperationalError("x"), sqlite3.OperationalError("database is locked")),
        psycopg.OperationalError("connection refused"),
        wrapped(OperationalError("x"), psycopg.OperationalError("server closed the connection")),
        PoolTimeout("couldn't get a connection after 30 sec"),
    ],
)
def test_an_unreachable_or_busy_database_is_an_outage(error: Exception) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("no such table: view_invoices"),
        wrapped(OperationalError("x"), sqlite3.OperationalError('near "SELEC": syntax error')),
        ProgrammingError("bad SQL"),
        wrapped(OperationalError("x"), psycopg.errors.UndefinedTable("no such relation")),
        ValueError("not a database error at all"),
    ],
)
def test_a_bug_is_not_an_outage(error: Exception) -> None:
    assert not is_unavailable(error)
