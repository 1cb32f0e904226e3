"""Commands on long-lived aggregates beside the same commands on new ones, interleaved.

Target 4 of "Performance and scale" asks that a payment on an invoice with 1,000
events cost what it costs on a new one. Here each measured request on the long-lived
aggregate is followed by the same request on a new one, one connection, so that a
change in the machine's speed hits both alike:

- a payment on an invoice with `--events` payments, against a payment on an invoice
  with none (a new invoice for each request; the long one grows by one each time);
- an edit of a DRAFT edited `--events` times, against an edit of a new DRAFT;
- GET by id of each.

The invoice's document lists every payment (the contract's `payments`), so its bytes
grow with its payments; the edited DRAFT's do not.

Usage: python -m bench.long_lived [--events 1000] [--requests 300]
       [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import psycopg

from api.services import build_services
from application.invoices import NewInvoice
from bench.seed import META, Seeded, add_payments, seed_account, seed_invoices
from bench.server import bench_env, postgres_option, served
from bench.throughput import throwaway_database
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings

PAYMENT = json.dumps({"amount": 0.01}).encode()


def edited_draft(s: Services, seeded: Seeded, edits: int) -> UUID:
    """A DRAFT edited `edits` times (its notes), saved a hundred edits at a time."""
    app = s.app
    invoice = app.create_invoice(seeded.account_id, new_draft(seeded), META)
    for done in range(0, edits, 100):
        invoice = app.get_invoice(seeded.account_id, invoice.id)
        now = app.clock.now()
        for n in range(done, min(edits, done + 100)):
            invoice.update({"notes": f"edit {n}"}, now + timedelta(microseconds=n), META)
        app.save(invoice)
    return invoice.id


def new_draft(seeded: Seeded) -> NewInvoice:
    return NewInvoice(
        client_id=seeded.client_id,
        line_items=(LineItem("Consulting", Decimal(2), Decimal(450)),),
    )


class Timer:
    """Sequential requests on one kept-alive connection, each timed on its own."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.headers = {"Authorization": token, "Content-Type": "application/json"}

    def __call__(self, method: str, path: str, body: bytes | None = None) -> float:
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=self.headers)
        response = self.conn.getresponse()
        elapsed = time.perf_counter() - started
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {response.read()[:200]!r}")
        response.read()
        return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    postgres_option(parser)
    args = parser.parse_args()
    n = args.requests
    with throwaway_database(args.postgres) as db_url:
        env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4")
        s = build_services(Settings.from_env({**env, "EXPERI_BACKGROUND_JOBS": "0"}))
        seeded = seed_account(s, "Long lived")
        token = s.app.create_key(seeded.account_id, "b", ["all"], META).token
        seed_invoices(s, seeded, 1 + n)  # the long one, then a new one per request
        long_paid, *fresh = seeded.invoice_ids
        add_payments(s, seeded, long_paid, args.events)
        long_draft = edited_draft(s, seeded, args.events - 1)  # + its creation
        new_drafts = [s.app.create_invoice(seeded.account_id, new_draft(seeded), META).id
                      for _ in range(n)]  # fmt: skip
        s.close()
        figures: dict[str, list[float]] = {}
        base = "/api/v1/invoices"
        with served(env, 1) as (port, _):
            timed = Timer(port, f"Bearer {token}")
            for _ in range(20):  # warm both paths
                timed("GET", f"{base}/{long_paid}")
                timed("GET", f"{base}/{fresh[0]}")
            for k in range(n):
                pairs = {
                    "payment": (
                        ("POST", f"{base}/{long_paid}/paid", PAYMENT),
                        ("POST", f"{base}/{fresh[k]}/paid", PAYMENT),
                    ),
                    "edit of a DRAFT": (
                        ("PATCH", f"{base}/{long_draft}", note(k)),
                        ("PATCH", f"{base}/{new_drafts[k]}", note(k)),
                    ),
                    "GET by id, paid": (
                        ("GET", f"{base}/{long_paid}", None),
                        ("GET", f"{base}/{fresh[k]}", None),
                    ),
                    "GET by id, edited": (
                        ("GET", f"{base}/{long_draft}", None),
                        ("GET", f"{base}/{new_drafts[k]}", None),
                    ),
                }
                for name, (old, new) in pairs.items():
                    figures.setdefault(f"{name}: long-lived", []).append(timed(*old))
                    figures.setdefault(f"{name}: new", []).append(timed(*new))
        print(
            f"{args.events:,} events on each long-lived invoice, {n} interleaved requests "
            "each (the paid one ends with that many more payments)"
        )
        medians = {name: statistics.median(ms) for name, ms in figures.items()}
        for name, ms in medians.items():
            print(f"  {name:<32} median {ms:6.2f} ms")
        for name in ("payment", "edit of a DRAFT", "GET by id, paid", "GET by id, edited"):
            ratio = medians[f"{name}: long-lived"] / medians[f"{name}: new"]
            print(f"  {name:<32} long-lived / new {ratio:5.2f}")
        with psycopg.connect(db_url) as conn:
            rows, text = conn.execute(
                "SELECT COUNT(*), SUM(octet_length(body)) FROM view_events WHERE entity_id = %s",
                (str(long_paid),),
            ).fetchone() or (0, 0)
            stored = conn.execute("SELECT pg_total_relation_size('view_events')").fetchone()
        print(
            f"  feed of the paid one: {rows:,} rows, {int(text or 0) / 1e6:.1f} MB of text; "
            f"the feed table {int(stored[0] if stored else 0) / 1e6:.1f} MB on disk"
        )


def note(k: int) -> bytes:
    return json.dumps({"notes": f"request {k}"}).encode()


if __name__ == "__main__":
    main()
