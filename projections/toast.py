"""PostgreSQL compresses large column values (TOAST) with pglz unless told otherwise;
lz4 compresses the same documents several times faster, which is most of what writing
a long-lived invoice's row costs (its state, document and feed body all hold every
payment)."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import SqlCursor

# The columns that hold documents and encoded states: the ones large enough to compress.
LARGE = ("state", "document", "body")


def prefer_lz4(cur: SqlCursor, tables: Sequence[str], schema: str | None = None) -> None:
    """Compress the large columns of `tables` (in `schema`, by default the session's)
    with lz4 from now on, if this server was built with it. Values already stored stay
    as they are; each column is altered once."""
    cur.execute(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    if cur.fetchone() is None:
        return
    cur.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = COALESCE(?, current_schema()) AND c.relname = ANY(?) "
        "AND a.attname = ANY(?) AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attcompression <> 'l'",
        (schema, list(tables), list(LARGE)),
    )
    within = f"{quoted(schema)}." if schema else ""
    for table, column in cur.fetchall():
        cur.execute(
            f"ALTER TABLE {within}{quoted(table)} ALTER COLUMN {quoted(column)} SET COMPRESSION lz4"
        )


def quoted(name: str) -> str:
    """An identifier as PostgreSQL quotes it (any character, a double quote doubled)."""
    return '"' + name.replace('"', '""') + '"'
