"""Reading the last link of some accounts' audit chains (the follower's pass reads those
of the accounts in each batch), against the query it replaced, on both databases.

Each account gets `--links` links; the accounts read are 1, 3 and `--accounts` of them,
each read repeated (the median reported), the same table for both queries.

Usage: python -m bench.account_heads [--links 100000] [--accounts 16] [--postgres URL]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.server import postgres_option
from bench.throughput import throwaway_database
from infrastructure.sql import PostgresCursor
from projections.audit_batch import account_heads, select_in

TABLE = (
    "CREATE TABLE audit_account_chain (seq BIGINT PRIMARY KEY, account_id TEXT NOT NULL, "
    "position BIGINT NOT NULL, hash TEXT NOT NULL)",
    "CREATE UNIQUE INDEX audit_account_chain_position ON audit_account_chain "
    "(account_id, position)",
)
# The query before: the greatest position of each account, then its row.
BEFORE = (
    "SELECT c.account_id, c.position, c.hash FROM audit_account_chain c JOIN ("
    "SELECT account_id, MAX(position) AS p FROM audit_account_chain "
    "WHERE account_id IN ({}) GROUP BY account_id) m "
    "ON c.account_id = m.account_id AND c.position = m.p"
)
Heads = Callable[[Any, Sequence[str]], dict[str, tuple[int, str]]]


def before(cur: Any, accounts: Sequence[str]) -> dict[str, tuple[int, str]]:
    return {str(r[0]): (int(r[1]), str(r[2])) for r in select_in(cur, BEFORE, sorted(accounts))}


def median_ms(heads: Heads, cur: Any, accounts: Sequence[str], times: int = 21) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        found = heads(cur, accounts)
        spent.append((time.perf_counter() - started) * 1000)
        assert len(found) == len(accounts)
    return statistics.median(spent)


def compare(name: str, cur: Any, accounts: list[str], links: int) -> None:
    for count in sorted({1, 3, len(accounts)}):
        chosen = accounts[:count]
        assert before(cur, chosen) == account_heads(cur, chosen)
        old, new = median_ms(before, cur, chosen), median_ms(account_heads, cur, chosen)
        print(f"{name:<10} {count:>3} account(s) of {links:,} links: "
              f"before {old:8.3f} ms, now {new:6.3f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=100_000, help="per account")
    parser.add_argument("--accounts", type=int, default=16)
    postgres_option(parser)
    args = parser.parse_args()
    accounts = [f"account-{n:04d}" for n in range(args.accounts)]
    rows = args.links * args.accounts
    with throwaway_database(args.postgres) as url, psycopg.connect(url) as conn:
        for statement in TABLE:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO audit_account_chain SELECT g, 'account-' || lpad((g %% %s)::text, 4, "
            "'0'), g / %s + 1, md5(g::text) FROM generate_series(0, %s) g",
            (args.accounts, args.accounts, rows - 1),
        )
        conn.execute("ANALYZE audit_account_chain")
        compare("postgresql", PostgresCursor(conn.cursor()), accounts, args.links)
    with tempfile.TemporaryDirectory() as where:
        lite = sqlite3.connect(Path(where) / "heads.sqlite")
        for statement in TABLE:
            lite.execute(statement)
        lite.executemany(
            "INSERT INTO audit_account_chain VALUES (?, ?, ?, ?)",
            ((g, accounts[g % args.accounts], g // args.accounts + 1, str(g)) for g in range(rows)),
        )
        lite.commit()
        compare("sqlite", lite.cursor(), accounts, args.links)
        lite.close()


if __name__ == "__main__":
    main()
