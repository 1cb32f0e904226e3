"""The save script's placeholders become PostgreSQL's numbered parameters."""

from __future__ import annotations

from infrastructure.prepared import numbered


def test_placeholders_are_numbered_in_order_and_escaped_percents_kept() -> None:
    sql = "INSERT INTO t (a, b) VALUES (%s, %s) WHERE c LIKE 'x%%' AND d = (SELECT %s)"
    assert numbered(sql) == (
        "INSERT INTO t (a, b) VALUES ($1, $2) WHERE c LIKE 'x%' AND d = (SELECT $3)"
    )


def test_a_statement_without_placeholders_is_unchanged() -> None:
    assert numbered("COMMIT") == "COMMIT"
