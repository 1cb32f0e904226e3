"""`experi projections rebuild` speed: seeds N events, then times a full rebuild.

Usage: python -m bench.rebuild [--events 100000] [--accounts 100] [--payments 3]
       [--backend postgres|sqlite] [--profile]  (BENCH_SORT=tottime orders the profile)
       [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
On PostgreSQL a throwaway database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import tempfile
import time
from contextlib import ExitStack

from api.documents import ApiDocuments
from api.services import build_services
from bench.seed import seed_account, seed_invoices
from bench.server import postgres_option
from bench.throughput import throwaway_database
from infrastructure.bootstrap import Services
from infrastructure.rebuild_helpers import in_processes
from infrastructure.settings import Settings


def cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def postgres_cpu() -> float | None:
    """CPU of every PostgreSQL process on this machine, with their ended children's
    (None where the server is elsewhere): on a quiet machine, what it spent."""
    total, ticks, found = 0.0, os.sysconf("SC_CLK_TCK"), False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                name, rest = f.read().rsplit(")", 1)
        except OSError:
            continue  # ended meanwhile
        if name.endswith("(postgres"):
            fields = rest.split()
            # Its own CPU, and that of its ended children (the helpers' connections).
            total += sum(int(v) for v in fields[11:15]) / ticks
            found = True
    return total if found else None


def children_cpu() -> float:
    """CPU of finished child processes (the rebuild's helpers; the seed starts none)."""
    return cpu(resource.getrusage(resource.RUSAGE_CHILDREN))


def store_env(database_url: str | None = None) -> dict[str, str]:
    """The settings of a store to seed and rebuild: a fresh data directory, no background
    jobs, quick key hashes; PostgreSQL at `database_url`, else the embedded default."""
    env = {
        "EXPERI_DATA_DIR": tempfile.mkdtemp(prefix="experi-bench-"),
        "EXPERI_BACKGROUND_JOBS": "0",
        "EXPERI_BCRYPT_ROUNDS": "4",
    }
    if database_url:
        env["EXPERI_DATABASE_URL"] = f"{database_url}?schema=public"
    return env


def seed_store(s: Services, events: int, accounts: int, payments: int) -> int:
    """About `events` events over `accounts` accounts, the views caught up; the number
    of events stored."""
    # Each invoice stores a counter event, Created, and its payments.
    per_account = max(1, events // (accounts * (2 + payments)))
    for n in range(accounts):
        seed_invoices(s, seed_account(s, f"Bench {n}"), per_account, payments)
    s.projector.catch_up()
    return s.app.recorder.max_notification_id() or 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--payments", type=int, default=3, help="per invoice")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--one-process", action="store_true", help="no helper process for the audit views"
    )
    postgres_option(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        on_postgres = args.backend == "postgres"
        url = stack.enter_context(throwaway_database(args.postgres)) if on_postgres else None
        env = store_env(url)
        s = build_services(Settings.from_env(env))
        stack.callback(s.close)
        started = time.perf_counter()
        events = seed_store(s, args.events, args.accounts, args.payments)
        print(f"seeded {events:,} events in {time.perf_counter() - started:.1f} s ({args.backend})")
        profiler = cProfile.Profile() if args.profile else None
        cpu_before = resource.getrusage(resource.RUSAGE_SELF), children_cpu(), postgres_cpu()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        s.projector.rebuild(
            elsewhere=None if args.one_process else in_processes(s.settings, ApiDocuments)
        )
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        print(f"rebuild: {events:,} events in {seconds:.1f} s = {events / seconds:,.0f} events/s")
        mine = cpu(resource.getrusage(resource.RUSAGE_SELF)) - cpu(cpu_before[0])
        helpers = children_cpu() - cpu_before[1]
        server = postgres_cpu()
        spent = "" if server is None or cpu_before[2] is None else f"{server - cpu_before[2]:.2f} s"
        print(
            f"CPU: this process {mine:.2f} s, helper processes {helpers:.2f} s"
            + (f", PostgreSQL {spent}" if spent else "")
        )
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
            print(out.getvalue())


if __name__ == "__main__":
    main()
