"""Target 4: request latency as the store grows, and each server process's memory.

Seeds 1,000 accounts, then measures median latencies (one connection, one request at a
time) of the list and outstanding pages of one account at a small store and again at a
large one, GET by id and a payment on an invoice with 1,000 events against a new
invoice, and each server process's resident memory. Seeding uses the application's
own saves (bench/seed.py), many invoices per save.

Usage: python -m bench.scale [--small 10000] [--large 1000000] [--accounts 1000]
       [--seconds 3] [--workers 2] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from api.services import build_services
from bench import load
from bench.seed import META, Seeded, add_payments, seed_account, seed_invoices
from bench.server import bench_env, postgres_option, served
from bench.throughput import throwaway_database
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings

PAYMENT = {"amount": 0.01}


def grow(s: Services, accounts: list[Seeded], target: int, per_invoice: int = 5) -> None:
    """Invoices (Created, counter, 3 payments) round-robin over accounts up to `target`."""
    while True:
        have = s.app.recorder.max_notification_id() or 0
        if have >= target:
            return
        per = max(1, min(50, (target - have) // (per_invoice * len(accounts))))
        for seeded in accounts:
            seed_invoices(s, seeded, per, payments=per_invoice - 2)
            if (s.app.recorder.max_notification_id() or 0) >= target:
                return


def server_rss_mib(port: int) -> list[float]:
    """Resident memory of the server listening on `port` and of its worker processes."""
    procs: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss = int((entry / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        procs[int(entry.name)] = (int(stat[1]), cmd, rss / 2**20)
    roots = {p for p, (_, cmd, _) in procs.items() if f"--port {port}" in cmd and "serve" in cmd}
    tree = set(roots)
    while True:
        more = {p for p, (ppid, _, _) in procs.items() if ppid in tree} - tree
        if not more:
            break
        tree |= more
    return [round(procs[p][2], 1) for p in sorted(tree)]


def medians(port: int, paths: dict[str, Any], secs: float) -> dict[str, float]:
    out = {}
    for name, (auth, method, path, body) in paths.items():
        r = load.run("127.0.0.1", port, path, auth, secs, 1, method=method, body=body)
        errors = sum(n for status, n in r.statuses.items() if status >= 400)
        out[name] = r.percentile(0.5)
        if errors:
            print(f"  {name}: {errors} errors {dict(r.statuses)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    postgres_option(parser)
    args = parser.parse_args()
    with throwaway_database(args.postgres) as db_url:
        env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4")
        s = build_services(Settings.from_env({**env, "EXPERI_BACKGROUND_JOBS": "0"}))
        started = time.perf_counter()
        accounts = [seed_account(s, f"Bench {n}") for n in range(args.accounts)]
        # The long-lived invoice is another account's, so that it is not on the first
        # page of the listed account; a new invoice is made for each measurement.
        one, other = accounts[0], accounts[1]
        auth, other_auth = (
            {"Authorization": f"Bearer {s.app.create_key(a.account_id, 'b', ['all'], META).token}"}
            for a in (one, other)
        )
        seed_invoices(s, other, 1)
        # The listed account shows a full page (20 of its open invoices) at both sizes,
        # so that the two medians compare pages of the same length.
        seed_invoices(s, one, 25)
        old = other.invoice_ids[0]
        add_payments(s, other, old, 1_000)
        grow(s, accounts, args.small)
        s.projector.catch_up()
        rows: list[str] = []

        def measure(label: str) -> dict[str, float]:
            seed_invoices(s, other, 1)
            new = other.invoice_ids[-1]
            events = s.app.recorder.max_notification_id() or 0
            rows.append(
                f"{label}: {events:,} events, seeded in {time.perf_counter() - started:.0f} s"
            )
            base = "/api/v1/invoices"
            paths = {
                "list": (auth, "GET", f"{base}?limit=20", None),
                "outstanding": (auth, "GET", f"{base}/outstanding?limit=20", None),
                "GET by id, 1,000 events": (other_auth, "GET", f"{base}/{old}", None),
                "GET by id, new": (other_auth, "GET", f"{base}/{new}", None),
                "payment, 1,000 events": (other_auth, "POST", f"{base}/{old}/paid", PAYMENT),
                "payment, new": (other_auth, "POST", f"{base}/{new}/paid", PAYMENT),
            }
            with served(env, args.workers) as (port, _):
                result = medians(port, paths, args.seconds)
                rows.append(f"  server RSS MiB per process: {server_rss_mib(port)}")
            rows.extend(f"  {name:<28} median {ms:7.1f} ms" for name, ms in result.items())
            return result

        s.projector.catch_up()  # the audit views follow: started servers need not wait
        small = measure("small store")
        grow(s, accounts, args.large)
        s.projector.catch_up()
        large = measure("large store")
        rows += [f"  {name:<28} large/small {large[name] / small[name]:5.2f}" for name in small]
        s.close()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
