"""Targets 1-3 of "Performance and scale", each beside its baseline, in one run.

Reads: GET /invoices/{id} and GET /invoices/outstanding?limit=20 against a bare Litestar
handler reading one row by primary key (psycopg async pool, same workers). Writes:
POST /invoices on one account and over 16 accounts against raw eventsourcing one-event
saves from 16 threads. Each read and its baseline alternate for `--rounds` rounds (the
machine's load changes between measurements; side by side, it hits both alike), and the
median round is reported. Writes alternate too: each round starts a server, measures
both POSTs, stops it, and measures the raw saves (which need the connections its pools
hold). Each round also paces each figure at 70% of that round's maximum for its p99;
the report gives the median round's p99 and every round's (on a 2-core machine one
5-second window can be far slower than the round's maximum, and one paced run per
build said little).

Usage: python -m bench.throughput [--seconds 10] [--connections 32] [--workers 2]
       [--rounds 3] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
A throwaway database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bench import load
from bench.machine import interpreter_seconds, speed_line
from bench.raw_saves import raw_saves
from bench.server import bench_env, free_port, postgres_option, served

INVOICE = {
    "lineItems": [{"description": "Consulting", "quantity": 2, "unitPrice": 450}],
    "status": "SENT",
}


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A database dropped at the end, also when the bench is stopped by SIGTERM (as
    `timeout` stops it): the signal unwinds like an exception, so every cleanup of the
    caller (a worktree, its servers) runs too."""
    name = f"experi_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        signal.signal(signal.SIGTERM, previous)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


# The baseline runs on the same process model as `experi serve --workers N` (each
# worker on its own SO_REUSEPORT socket), so both get the same share of the cores.
SERVE_BASELINE = (
    "import sys; from api.serving import serve; sys.exit(serve({'app': "
    "'bench.baseline_app:make_app', 'factory': True, 'host': '127.0.0.1', "
    "'port': int(sys.argv[1]), 'log_level': 'warning'}, int(sys.argv[2])))"
)


@contextmanager
def baseline_server(db_url: str, workers: int, body: bytes) -> Iterator[tuple[int, str]]:
    row_id = str(uuid.uuid4())
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        conn.execute("INSERT INTO bench_rows VALUES (%s, %s)", (row_id, body.decode()))
    port = free_port()
    env = {**os.environ, "BENCH_CONNINFO": db_url}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_BASELINE, str(port), str(workers)],
        env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/row/{row_id}", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield port, f"/row/{row_id}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    import json

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=data,
        headers={**headers, "Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request))


def extra_keys(env: dict[str, str], count: int) -> list[dict[str, str]]:
    """Keys of `count` more accounts (each with a client), made in-process for speed."""
    from api.services import build_services
    from domain.meta import system_meta
    from infrastructure.settings import Settings

    meta = system_meta("bench")
    s = build_services(Settings.from_env({**env, "EXPERI_BACKGROUND_JOBS": "0"}))
    try:
        keys = []
        for n in range(count):
            account = s.app.create_account(f"Bench {n}", "b@example.com", "PRO", True, meta)
            token = s.app.create_key(account.id, "bench", ["all"], meta).token
            keys.append({"Authorization": f"Bearer {token}"})
        return keys
    finally:
        s.close()


def line(name: str, r: load.Result, baseline: float | None = None) -> str:
    ratio = f"  ratio {r.rate / baseline:.2f} of {baseline:,.0f}/s" if baseline else ""
    errors = sum(n for status, n in r.statuses.items() if status >= 400)
    return (
        f"{name:<44} {r.rate:8.0f} req/s  p50 {r.percentile(0.5):6.1f} ms  "
        f"p99 {r.percentile(0.99):7.1f} ms  errors {errors}{ratio}"
    )


def p99(result: load.Result) -> float:
    return result.percentile(0.99)


def middle(results: list[tuple[load.Result, float]]) -> tuple[load.Result, float]:
    """The round whose ratio to its baseline is the median."""
    ordered = sorted(results, key=lambda pair: pair[0].rate / pair[1])
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--invoices", type=int, default=300, help="seeded invoices")
    parser.add_argument("--rounds", type=int, default=3)
    postgres_option(parser)
    args = parser.parse_args()
    secs, conns = args.seconds, args.connections
    before = interpreter_seconds()  # before any server starts: the machine as found
    with throwaway_database(args.postgres) as db_url:
        env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4")
        report: list[str] = []
        with served(env, args.workers) as (port, auth):
            client = call(port, "POST", "/api/v1/clients", auth, {"name": "Bench client"})
            body = {**INVOICE, "clientId": client["id"]}
            for _ in range(args.invoices):
                invoice = call(port, "POST", "/api/v1/invoices", auth, body)
            one = f"/api/v1/invoices/{invoice['id']}"
            shape = urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{port}{one}", headers=auth)
            ).read()
            keys = extra_keys(env, 16)
            bodies = []
            for key in keys:
                c = call(port, "POST", "/api/v1/clients", key, {"name": "Bench client"})
                bodies.append({**INVOICE, "clientId": c["id"]})
            h = "127.0.0.1"
            outstanding = "/api/v1/invoices/outstanding?limit=20"
            # Each figure is measured right after (or before) its baseline, round after
            # round, so that a change in the machine's load hits both alike; the report
            # gives the round with the median ratio.
            rounds: dict[str, list[tuple[load.Result, float]]] = {}
            paced: dict[str, list[load.Result]] = {}
            with baseline_server(db_url, args.workers, shape) as (bport, path):
                for _ in range(args.rounds):
                    base = load.run(h, bport, path, {}, secs, conns)
                    get_one = load.run(h, port, one, auth, secs, conns)
                    rounds.setdefault("GET /invoices/{id}", []).append((get_one, base.rate))
                    listing = load.run(h, port, outstanding, auth, secs, conns)
                    base = load.run(h, bport, path, {}, secs, conns)
                    rounds.setdefault("GET /invoices/outstanding?limit=20", []).append(
                        (listing, base.rate)
                    )
                    paced.setdefault("GET /invoices/{id} at 70%", []).append(
                        load.run(h, port, one, auth, secs, conns, rate=0.7 * get_one.rate)
                    )
                    paced.setdefault("GET /invoices/outstanding at 70%", []).append(
                        load.run(h, port, outstanding, auth, secs, conns, rate=0.7 * listing.rate)
                    )
            median = {name: middle(results) for name, results in rounds.items()}
        # Raw saves need connections the server's pools hold while it runs: each write
        # round starts a server, measures, stops it, then measures its baseline.
        writes: list[tuple[load.Result, load.Result, float]] = []
        for _ in range(args.rounds):
            with served(env, args.workers) as (port, auth):
                post_one, post_many, one_paced, many_paced = _writes(
                    port, auth, keys, bodies, secs, conns
                )
            writes.append((post_many, post_one, raw_saves(db_url, threads=16, seconds=secs)))
            paced.setdefault("POST /invoices, one account at 70%", []).append(one_paced)
            paced.setdefault("POST /invoices, 16 accounts at 70%", []).append(many_paced)
        writes.sort(key=lambda w: w[0].rate / w[2])
        post_many, _, raw = writes[len(writes) // 2]
        post_one = sorted((w[1] for w in writes), key=lambda r: r.rate)[len(writes) // 2]
        gapless = _numbers_gapless(env)
        report += [
            f"{args.rounds} rounds; each line is its median round, beside the baseline "
            "measured next to it",
            *(line(name, *median[name]) for name in rounds),
            *(
                f"  {name}: ratios by round "
                + ", ".join(f"{r.rate / b:.2f} (baseline {b:,.0f}/s)" for r, b in results)
                for name, results in rounds.items()
            ),
            line("POST /invoices, 16 accounts", post_many, raw),
            "  POST /invoices, 16 accounts: ratios by round (in order of ratio) "
            + ", ".join(f"{m.rate / b:.2f} (baseline {b:,.0f}/s)" for m, _, b in writes),
            line("POST /invoices, one account", post_one),
            "  POST /invoices, one account: req/s by round "
            + ", ".join(f"{w[1].rate:,.0f}" for w in writes),
            *(
                text
                for name, results in paced.items()
                for text in (
                    line(name, sorted(results, key=p99)[len(results) // 2]),
                    f"  {name}: p99 by round "
                    + ", ".join(f"{p99(r):.1f} ms at {r.rate:,.0f}/s" for r in results),
                )
            ),
            f"numbers gapless and unique on every account: {gapless}",
        ]
    print(f"{args.workers} server workers, {conns} connections, {secs:.0f} s each")
    print(speed_line(before))
    print("\n".join(report))


def _writes(
    port: int,
    auth: dict[str, str],
    keys: list[dict[str, str]],
    bodies: list[dict[str, Any]],
    secs: float,
    conns: int,
) -> tuple[load.Result, load.Result, load.Result, load.Result]:
    """POST /invoices flat out on one account (this server's own), then over 16; then
    each paced at 70% of its rate."""
    h = "127.0.0.1"
    client = call(port, "POST", "/api/v1/clients", auth, {"name": "Bench client"})
    body = {**INVOICE, "clientId": client["id"]}
    _post_many(h, port, keys, bodies, 1.0, conns)  # warm the new processes
    path = "/api/v1/invoices"
    post_one = load.run(h, port, path, auth, secs, conns, method="POST", body=body)
    post_many = _post_many(h, port, keys, bodies, secs, conns)
    one_paced = load.run(
        h, port, path, auth, secs, conns, method="POST", body=body, rate=0.7 * post_one.rate
    )
    many_paced = _post_many(h, port, keys, bodies, secs, conns, rate=0.7 * post_many.rate)
    return post_one, post_many, one_paced, many_paced


def _post_many(
    host: str,
    port: int,
    keys: list[dict[str, str]],
    bodies: list[dict[str, Any]],
    secs: float,
    conns: int,
    rate: float = 0.0,
) -> load.Result:
    """POST /invoices, connection i on account i % 16 (each with its own client), all
    from one event loop."""
    return load.run(
        *(host, port, "/api/v1/invoices", {}, secs, conns),
        method="POST",
        per_connection_headers=keys,
        per_connection_bodies=bodies,
        rate=rate,
    )


def _numbers_gapless(env: dict[str, str]) -> bool:
    """Every account's invoice numbers are 1..n, each once (read through the list query)."""
    from uuid import UUID

    from api.services import build_services
    from application.ports import InvoiceFilter
    from infrastructure.settings import Settings

    s = build_services(Settings.from_env({**env, "EXPERI_BACKGROUND_JOBS": "0"}))
    try:
        with s.db.transaction() as cur:
            cur.execute("SELECT DISTINCT account_id FROM view_invoices")
            accounts = [UUID(r[0]) for r in cur.fetchall()]
        for account_id in accounts:
            numbers, cursor = [], None
            while True:
                today = s.app.clock.now().date()
                page = s.queries.list_invoices(account_id, InvoiceFilter(), 100, cursor, today)
                listed = [json.loads(i)["invoiceNumber"] for i in page.items]
                numbers += [int(n.rsplit("-", 1)[1]) for n in listed]
                cursor = page.next_cursor
                if cursor is None:
                    break
            if sorted(numbers) != list(range(1, len(numbers) + 1)):
                return False
        return True
    finally:
        s.close()


if __name__ == "__main__":
    main()
