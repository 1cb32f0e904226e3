"""`bench.rebuild` for this build against another, alternating, in one run.

A rebuild on this 2-core machine runs at anything from 12,000 to 22,000 events/s within
minutes as other work comes and goes, so one rebuild per build says little about a
change. Here each pair runs both builds' `bench.rebuild` (each on a throwaway database
of its own, seeded the same way), the order swapped from pair to pair, and the summary
gives each build's mean and median and in how many pairs this build was the faster;
with each run's CPU by process, which shows a change that moves work between them.

Usage: python -m bench.rebuild_pairs --before REV [--pairs 4] [--events 100000]
       [--postgres URL]
REV is checked out in a temporary git worktree (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from bench.server import postgres_option
from bench.write_tail import HERE, worktree

RATE = re.compile(r"= ([\d,]+) events/s")
CPU = re.compile(
    r"this process ([\d.]+) s, helper processes ([\d.]+) s(?:, PostgreSQL ([\d.]+) s)?"
)


def one_rebuild(tree: Path, events: int, postgres: str) -> tuple[float, str]:
    """One `bench.rebuild` in `tree`: its rate and its CPU line."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.rebuild", "--events", str(events), "--postgres", postgres],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate, cpu = RATE.search(out), CPU.search(out)
    if rate is None or cpu is None:
        raise SystemExit(f"bench.rebuild printed no rate in {tree}:\n{out}")
    rows, helper, server = cpu.groups()
    spent = f"rows {rows} s, audit {helper} s, PostgreSQL {server or '-'} s"
    return float(rate.group(1).replace(",", "")), spent


def summarise(rates: dict[str, list[float]]) -> None:
    """Each build's rates, mean and median, and in how many pairs the after was faster."""
    faster = sum(a > b for a, b in zip(rates["after"], rates["before"], strict=True))
    for name, values in rates.items():
        each = ", ".join(f"{v:,.0f}" for v in values)
        print(
            f"{name:<6} mean {statistics.mean(values):8,.0f}  median "
            f"{statistics.median(values):8,.0f} events/s  ({each})"
        )
    print(f"after faster in {faster} of {len(rates['after'])} pairs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the git revision to compare with")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--events", type=int, default=100_000)
    postgres_option(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        trees = {"before": stack.enter_context(worktree(args.before)), "after": HERE}
        rates: dict[str, list[float]] = {name: [] for name in trees}
        for n in range(args.pairs):
            order = list(trees) if n % 2 == 0 else list(reversed(trees))
            for name in order:
                rate, cpu = one_rebuild(trees[name], args.events, args.postgres)
                rates[name].append(rate)
                print(f"pair {n + 1} {name:<6} {rate:8,.0f} events/s  CPU: {cpu}", flush=True)
    summarise(rates)


if __name__ == "__main__":
    main()
