"""How long one pass over N due recurring templates takes (default 10,000).

Each template has one occurrence due, so a pass generates N invoices (numbers,
events, projections). Usage:
  python -m bench.recurring_pass --database-url postgresql://... [--templates 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from decimal import Decimal

from api.services import build_services
from application.ports import InvoiceFilter
from application.recurring import NewRecurring
from domain.meta import system_meta
from domain.values import LineItem
from infrastructure.settings import Settings

META = system_meta("bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = {"EXPERI_DATA_DIR": tempfile.mkdtemp(prefix="experi-bench-"), "EXPERI_BCRYPT_ROUNDS": "4"}
    if args.database_url:
        env["EXPERI_DATABASE_URL"] = args.database_url
    s = build_services(Settings.from_env(env))
    try:
        started = time.perf_counter()
        lines = (LineItem("Retainer", Decimal(1), Decimal(500)),)
        accounts = []
        for a in range(args.accounts):
            account = s.app.create_account(f"Bench {a}", "b@example.com", "PRO", True, META)
            client = s.app.create_client(account.id, {"name": "Client"}, META)
            accounts.append((account.id, client.id))
        for n in range(args.templates):
            account_id, client_id = accounts[n % len(accounts)]
            new = NewRecurring(
                client_id=client_id,
                frequency="MONTHLY",
                interval=1,
                start_date=date(2026, 3, 1),
                line_items=lines,
            )
            s.app.create_recurring(account_id, new, META)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        generated = s.recurring.run_once(date(2026, 3, 1))
        elapsed = time.perf_counter() - started
        today = s.app.clock.now().date()
        listed = s.queries.list_invoices(accounts[0][0], InvoiceFilter(), 100, None, today)
    finally:
        s.close()
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(
        f"backend: {backend}; {args.templates} due templates over {args.accounts} accounts "
        f"(seeded in {seeded:.1f} s)"
    )
    print(
        f"one pass: {generated} invoices in {elapsed:.1f} s "
        f"({generated / elapsed:.0f} invoices/s); first account lists {len(listed.items)}"
    )


if __name__ == "__main__":
    main()
