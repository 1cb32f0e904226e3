"""Follows Experi's events feed and keeps its own projection: per month and currency,
the amount invoiced, paid and still outstanding.

    python examples/analytics/consumer.py --url http://127.0.0.1:8000 --key-file KEY \\
        --store analytics.sqlite3

Each event carries its invoice as it stood right after the change, so the projection
keeps the latest state of each invoice and sums over those. The invoices and the feed
position are saved in one transaction per page: stop it at any point and it resumes
where it stopped, never counting an event twice. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import urllib.parse
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

Fetch = Callable[[str, dict[str, str]], dict[str, Any]]
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS position (id INTEGER PRIMARY KEY CHECK (id = 1), cursor TEXT)",
    "CREATE TABLE IF NOT EXISTS invoices (id TEXT PRIMARY KEY, currency TEXT NOT NULL, "
    "issue_month TEXT NOT NULL, status TEXT NOT NULL, total TEXT NOT NULL, "
    "amount_due TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL, "
    "currency TEXT NOT NULL, month TEXT NOT NULL, amount TEXT NOT NULL)",
)


def open_store(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    for statement in SCHEMA:
        db.execute(statement)
    return db


def follow(db: sqlite3.Connection, fetch: Fetch, pages: int | None = None, limit: int = 100) -> int:
    """Apply every event after the saved position; returns how many were applied.
    `pages` stops early (as a crash would) after that many pages."""
    row = db.execute("SELECT cursor FROM position").fetchone()
    cursor = row[0] if row else None
    applied = 0
    while pages is None or pages > 0:
        params = {"limit": str(limit), "type": "invoice.*"}
        if cursor:
            params["cursor"] = cursor
        page = fetch("/api/v1/events", params)
        with db:  # the page's changes and the new position commit together
            for event in page["data"]:
                apply(db, event["data"]["object"])
                applied += 1
            # The feed's cursor continues after the page's last event, even at the end.
            cursor = page["pagination"]["nextCursor"]
            db.execute("INSERT OR REPLACE INTO position (id, cursor) VALUES (1, ?)", (cursor,))
        if not page["pagination"]["hasMore"]:
            return applied
        if pages is not None:
            pages -= 1
    return applied


def apply(db: sqlite3.Connection, invoice: dict[str, Any]) -> None:
    db.execute(
        "INSERT OR REPLACE INTO invoices VALUES (?, ?, ?, ?, ?, ?)",
        (
            invoice["id"],
            invoice["currency"],
            invoice["issueDate"][:7],
            invoice["status"],
            str(invoice["total"]),
            str(invoice["amountDue"]),
        ),
    )
    for payment in invoice["payments"]:
        db.execute(
            "INSERT OR REPLACE INTO payments VALUES (?, ?, ?, ?, ?)",
            (
                payment["id"],
                invoice["id"],
                invoice["currency"],
                payment["paymentDate"][:7],
                str(payment["amount"]),
            ),
        )


def report(db: sqlite3.Connection) -> dict[str, dict[str, dict[str, Decimal]]]:
    """{month: {currency: {"invoiced", "paid", "outstanding"}}}; DRAFT and VOID
    invoices are not invoiced."""
    out: dict[str, dict[str, dict[str, Decimal]]] = {}

    def cell(month: str, currency: str) -> dict[str, Decimal]:
        zero = {"invoiced": Decimal(0), "paid": Decimal(0), "outstanding": Decimal(0)}
        return out.setdefault(month, {}).setdefault(currency, zero)

    issued = "status NOT IN ('DRAFT', 'VOID')"
    for month, currency, total, due in db.execute(
        f"SELECT issue_month, currency, total, amount_due FROM invoices WHERE {issued}"
    ):
        cell(month, currency)["invoiced"] += Decimal(total)
        cell(month, currency)["outstanding"] += Decimal(due)
    for month, currency, amount in db.execute("SELECT month, currency, amount FROM payments"):
        cell(month, currency)["paid"] += Decimal(amount)
    return out


def http_fetch(base_url: str, key: str) -> Fetch:
    def fetch(path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{base_url.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read(), parse_float=Decimal)  # type: ignore[no-any-return]

    return fetch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key-file", required=True, help="a file holding an events:read key")
    parser.add_argument("--store", default="analytics.sqlite3")
    args = parser.parse_args()
    db = open_store(args.store)
    applied = follow(db, http_fetch(args.url, Path(args.key_file).read_text().strip()))
    print(f"applied {applied} events")
    for month, currencies in sorted(report(db).items()):
        for currency, figures in sorted(currencies.items()):
            line = ", ".join(f"{name} {value}" for name, value in figures.items())
            print(f"{month} {currency}: {line}")


if __name__ == "__main__":
    main()
