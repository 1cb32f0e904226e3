"""`experi projections rebuild` of one seeded store, this build against another, taking
turns.

At a million events, seeding takes five or six minutes and a rebuild about one, so a
fresh store per rebuild (`bench.rebuild_pairs`) spends most of an hour seeding. Here
the store is seeded once (by this build) and each build rebuilds it in turn, the
order swapped from pair to pair, with `experi projections rebuild` run from its own
checkout: its wall time (start-up included, the same for both) and the CPU of the
command with its helper process and of PostgreSQL. Both builds must read what the
other writes.

Usage: python -m bench.rebuild_same_store --before REV [--pairs 3] [--events 1000000]
       [--accounts 1000] [--payments 3] [--postgres URL]
REV is checked out in a temporary git worktree (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from api.services import build_services
from bench.machine import speed_line
from bench.rebuild import cpu, postgres_cpu, seed_store, store_env
from bench.rebuild_pairs import summarise
from bench.server import postgres_option
from bench.throughput import throwaway_database
from bench.write_tail import HERE, worktree
from infrastructure.settings import Settings


def seed(env: dict[str, str], events: int, accounts: int, payments: int) -> int:
    s = build_services(Settings.from_env(env))
    try:
        return seed_store(s, events, accounts, payments)
    finally:
        s.close()


def rebuild(env: dict[str, str], tree: Path) -> tuple[float, float, float]:
    """Seconds, the command's CPU (with its helper's) and PostgreSQL's CPU."""
    children, server = cpu(resource.getrusage(resource.RUSAGE_CHILDREN)), postgres_cpu() or 0.0
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "api.cli", "projections", "rebuild"],
                   env={**os.environ, **env}, cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    seconds = time.perf_counter() - started
    spent = cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - children
    return seconds, spent, (postgres_cpu() or 0.0) - server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the git revision to compare with")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--payments", type=int, default=3, help="per invoice")
    postgres_option(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        trees = {"before": stack.enter_context(worktree(args.before)), "after": HERE}
        env = store_env(stack.enter_context(throwaway_database(args.postgres)))
        started = time.perf_counter()
        events = seed(env, args.events, args.accounts, args.payments)
        print(f"seeded {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
        rates: dict[str, list[float]] = {name: [] for name in trees}
        for n in range(args.pairs):
            for name in list(trees) if n % 2 == 0 else list(reversed(trees)):
                seconds, spent, server = rebuild(env, trees[name])
                rates[name].append(events / seconds)
                print(f"pair {n + 1} {name:<6} {events / seconds:8,.0f} events/s  "
                      f"({seconds:.1f} s; CPU: command and helper {spent:.2f} s, "
                      f"PostgreSQL {server:.2f} s)", flush=True)  # fmt: skip
        summarise(rates)
        print(speed_line())


if __name__ == "__main__":
    main()
