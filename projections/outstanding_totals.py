"""Outstanding totals per account and currency, kept by triggers on the invoice rows.

An invoice counts while it is open (SENT or PARTIALLY_PAID) with an amount due above
zero. Each insert, update or delete of an invoice row takes its old contribution off
and adds its new one in the same transaction, so the totals always agree with the rows
a reader sees beside them. An update that changes neither status, currency nor amount
due touches no total (no lock on the account's totals row for it).

A rebuild on PostgreSQL writes its rows with the trigger switched off for its own
transactions (`SKIP_IN_TRANSACTION`) and counts every total once at the end
(`recount_statements`): the trigger cost about 12 µs per row, on the path the rebuild
waits for. Writers running meanwhile keep the trigger; the recount replaces what they
added with the count of the finished rows.
"""

from __future__ import annotations

from domain.invoice import OPEN_STATUSES

TOTALS = "view_outstanding"
_SKIP = "experi.skip_outstanding_totals"  # a setting of the transaction, never the session
SKIP_IN_TRANSACTION = f"SET LOCAL {_SKIP} = 'on'"


def is_open(row: str = "") -> str:
    """SQL: the invoice row (`row` is "OLD."/"NEW." in a trigger) is SENT or partly paid."""
    return f"{row}status IN ({', '.join(repr(s) for s in OPEN_STATUSES)})"


def owing(row: str = "") -> str:
    """SQL: the invoice row counts in the outstanding list and totals."""
    return f"{is_open(row)} AND {row}amount_due_minor > 0"


def _add(row: str, sign: str) -> str:
    return (
        f"UPDATE {TOTALS} SET invoices = invoices {sign} 1, "
        f"due_minor = due_minor {sign} {row}.amount_due_minor "
        f"WHERE account_id = {row}.account_id AND currency = {row}.currency"
    )


def _open_row(row: str) -> str:
    """Make sure the (account, currency) row exists before `_add(row, '+')`."""
    return (
        f"INSERT INTO {TOTALS} (account_id, currency, invoices, due_minor) "
        f"VALUES ({row}.account_id, {row}.currency, 0, 0) "
        "ON CONFLICT (account_id, currency) DO NOTHING"
    )


def _changed(differs: str) -> str:
    """True when the update may change the row's contribution (`differs`: the dialect's
    null-safe "not equal")."""
    return " OR ".join(
        f"OLD.{c} {differs} NEW.{c}" for c in ("status", "currency", "amount_due_minor")
    )


def totals_statements(rows: str, dialect: str) -> list[str]:
    table = (
        f"CREATE TABLE IF NOT EXISTS {TOTALS} (account_id TEXT NOT NULL, "
        "currency TEXT NOT NULL, invoices BIGINT NOT NULL, due_minor BIGINT NOT NULL, "
        "PRIMARY KEY (account_id, currency))"
    )
    if dialect == "postgresql":
        return [table, *_postgres(rows)]
    return [table, *_sqlite(rows)]


def _postgres(rows: str) -> list[str]:
    """A trigger per operation, each with a WHEN condition that the server tests before
    it calls the function: a row that neither counted nor counts (a DRAFT, say), an
    update that changes no contribution and a rebuild's writes (`SKIP_IN_TRANSACTION`)
    call no PL/pgSQL at all. The one function before these, called for every row,
    cost 20-40 us more per invoice write, under the event table's lock."""
    function = f"{rows}_totals"
    both = (
        f"IF TG_OP = 'UPDATE' AND {owing('NEW.')} "
        "AND NEW.account_id = OLD.account_id AND NEW.currency = OLD.currency THEN "
        f"UPDATE {TOTALS} SET due_minor = due_minor + NEW.amount_due_minor "
        "- OLD.amount_due_minor WHERE account_id = NEW.account_id "
        "AND currency = NEW.currency; RETURN NULL; END IF; "
    )
    body = (
        "BEGIN "
        f"IF TG_OP <> 'INSERT' AND {owing('OLD.')} THEN {both}{_add('OLD', '-')}; END IF; "
        f"IF TG_OP <> 'DELETE' AND {owing('NEW.')} THEN {_upsert('NEW')}; END IF; "
        "RETURN NULL; END"
    )
    unless_skipped = f"current_setting('{_SKIP}', true) IS DISTINCT FROM 'on'"
    when = {
        "INSERT": owing("NEW."),
        "UPDATE": f"({_changed('IS DISTINCT FROM')}) AND ({owing('OLD.')} OR {owing('NEW.')})",
        "DELETE": owing("OLD."),
    }
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $body$ {body} $body$",
        # The one trigger of stores made before: it would count every change twice.
        f"DROP TRIGGER IF EXISTS {function} ON {rows}",
        *(
            f"CREATE OR REPLACE TRIGGER {function}_{op.lower()} AFTER {op} ON {rows} "
            f"FOR EACH ROW WHEN (({condition}) AND {unless_skipped}) "
            f"EXECUTE FUNCTION {function}()"
            for op, condition in when.items()
        ),
    ]


def _upsert(row: str) -> str:
    """Add the row's contribution, making its (account, currency) row if need be."""
    return (
        f"INSERT INTO {TOTALS} AS t (account_id, currency, invoices, due_minor) "
        f"VALUES ({row}.account_id, {row}.currency, 1, {row}.amount_due_minor) "
        "ON CONFLICT (account_id, currency) DO UPDATE SET invoices = t.invoices + 1, "
        "due_minor = t.due_minor + EXCLUDED.due_minor"
    )


def recount_statements(rows: str) -> list[str]:
    """PostgreSQL: every total counted again from the rows. The rows are held still
    (SHARE: writers wait, readers do not) so that no write lands between the count and
    the totals it would have changed."""
    return [
        f"LOCK TABLE {rows} IN SHARE MODE",
        f"DELETE FROM {TOTALS}",
        f"INSERT INTO {TOTALS} (account_id, currency, invoices, due_minor) "
        f"SELECT account_id, currency, COUNT(*), SUM(amount_due_minor) FROM {rows} "
        f"WHERE {owing()} GROUP BY account_id, currency",
    ]


def _sqlite(rows: str) -> list[str]:
    added = f"{_open_row('NEW')}; {_add('NEW', '+')};"
    taken = f"{_add('OLD', '-')};"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {rows}_totals_insert AFTER INSERT ON {rows} "
        f"WHEN {owing('NEW.')} BEGIN {added} END",
        f"CREATE TRIGGER IF NOT EXISTS {rows}_totals_delete AFTER DELETE ON {rows} "
        f"WHEN {owing('OLD.')} BEGIN {taken} END",
        # An update: the old contribution off and the new one on (in either order).
        f"CREATE TRIGGER IF NOT EXISTS {rows}_totals_update_old AFTER UPDATE ON {rows} "
        f"WHEN ({_changed('IS NOT')}) AND {owing('OLD.')} BEGIN {taken} END",
        f"CREATE TRIGGER IF NOT EXISTS {rows}_totals_update_new AFTER UPDATE ON {rows} "
        f"WHEN ({_changed('IS NOT')}) AND {owing('NEW.')} BEGIN {added} END",
    ]
