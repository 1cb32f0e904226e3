"""Target 3's write tail, this build against another, at the same offered load.

On a 2-core machine one 5-second window can run at half the speed of the next, so a
p99 measured once per build (as `bench.throughput` does) says little about a change.
Here both builds serve at once, each on its own throwaway database, and paced windows
of POST /invoices over 16 accounts (or `--accounts N`: 1 is one account's queue for its
numbers) alternate between them, round after round, at one rate for both: 70% of the
lower of their maxima, each measured flat out first. The other build's server idles
meanwhile (its background passes run as they would).

Usage: python -m bench.write_tail --before REV [--rounds 8] [--seconds 5]
       [--connections 32] [--workers 2] [--accounts 16] [--postgres URL]
REV is checked out in a temporary git worktree (removed at the end) and served from
there; this checkout is the build after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import load
from bench.server import bench_env, postgres_option, served
from bench.throughput import INVOICE, _post_many, call, throwaway_database

HERE = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="experi-before-")) / "tree"
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "-f", "--detach", str(root), rev],
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield root
    finally:
        subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(root)],
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(root.parent, ignore_errors=True)


# `extra_keys` run by the checkout at the working directory (`-c` puts it first).
_KEYS_IN_TREE = (
    "import json, sys; from bench.throughput import extra_keys; "
    "print(json.dumps(extra_keys(json.loads(sys.argv[1]), int(sys.argv[2]))))"
)


def accounts(
    env: dict[str, str], port: int, count: int = 16, cwd: Path = HERE
) -> tuple[list[dict[str, str]], list[Any]]:
    """`count` accounts' keys and invoice bodies, the accounts made by the checkout at
    `cwd`: rows written by another may be in an encoding an older one cannot read."""
    made = subprocess.run([sys.executable, "-c", _KEYS_IN_TREE, json.dumps(env), str(count)],
                          cwd=cwd, check=True, capture_output=True, text=True)  # fmt: skip
    keys = json.loads(made.stdout.splitlines()[-1])
    bodies = []
    for key in keys:
        client = call(port, "POST", "/api/v1/clients", key, {"name": "Bench client"})
        bodies.append({**INVOICE, "clientId": client["id"]})
    return keys, bodies


Server = tuple[int, list[dict[str, str]], list[Any]]  # port, keys, invoice bodies


def machine_cpu() -> tuple[int, int]:
    """The whole machine's busy CPU time (clock ticks) and context switches so far."""
    with open("/proc/stat") as f:
        lines = f.read().splitlines()
    ticks = [int(x) for x in lines[0].split()[1:]]
    switches = next(int(line.split()[1]) for line in lines if line.startswith("ctxt"))
    return sum(ticks) - ticks[3] - ticks[4], switches  # less idle and I/O wait


def alternate(
    servers: dict[str, Server],
    rounds: int,
    secs: float,
    conns: int,
) -> None:
    """Each server's maximum, then paced windows at 70% of the lower one, alternating
    between the servers round by round; prints the medians and every round's p99, with
    the machine's CPU time and context switches per request (the load generator's too,
    the same for all)."""
    h, tick_ms = "127.0.0.1", 1000 / os.sysconf("SC_CLK_TCK")
    maxima = {}
    for name, (port, keys, bodies) in servers.items():
        _post_many(h, port, keys, bodies, 1.0, conns)  # warm
        maxima[name] = _post_many(h, port, keys, bodies, secs, conns).rate
    rate = 0.7 * min(maxima.values())
    paced: dict[str, list[load.Result]] = {name: [] for name in servers}
    costs: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    for n in range(rounds):
        for name in list(servers) if n % 2 == 0 else list(reversed(servers)):
            port, keys, bodies = servers[name]
            (busy, switched) = machine_cpu()
            result = _post_many(h, port, keys, bodies, secs, conns, rate=rate)
            after = machine_cpu()
            done = max(result.requests, 1)
            costs[name].append(((after[0] - busy) * tick_ms / done, (after[1] - switched) / done))
            paced[name].append(result)
    print("maxima: " + ", ".join(f"{name} {r:,.0f}/s" for name, r in maxima.items()))
    accounts = len(next(iter(servers.values()))[1])
    print(f"POST /invoices over {accounts} account(s) paced at {rate:,.0f}/s (70% of the lower)")
    for name, results in paced.items():
        p99s = [r.percentile(0.99) for r in results]
        p50s = [r.percentile(0.5) for r in results]
        cpu = statistics.median(c for c, _ in costs[name])
        switches = statistics.median(w for _, w in costs[name])
        print(
            f"{name:<7} p99 median {statistics.median(p99s):6.1f} ms  "
            f"p50 median {statistics.median(p50s):5.1f} ms  "
            f"CPU {cpu:.2f} ms and {switches:.0f} context switches per request (medians)\n"
            "        p99 by round " + ", ".join(f"{p:.0f}" for p in p99s)
        )


def window_options(parser: argparse.ArgumentParser) -> None:
    """The options both side-by-side scripts take besides what they compare."""
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=16, choices=range(1, 17))
    postgres_option(parser)


def start(
    stack: ExitStack, args: argparse.Namespace, settings: dict[str, str], cwd: Path = HERE
) -> Server:
    """A server of the checkout at `cwd` with `settings`, on a throwaway database, and
    its `--accounts` accounts' keys and invoice bodies (one client each)."""
    db_url = stack.enter_context(throwaway_database(args.postgres))
    env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4", **settings)
    port, _ = stack.enter_context(served(env, args.workers, cwd=str(cwd)))
    return (port, *accounts(env, port, args.accounts, cwd))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the git revision to compare with")
    window_options(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        before_tree = stack.enter_context(worktree(args.before))
        servers = {name: start(stack, args, {}, tree)
                   for name, tree in (("before", before_tree), ("after", HERE))}  # fmt: skip
        print(f"{args.workers} server workers, {args.connections} connections, "
              f"{args.seconds:g} s windows")  # fmt: skip
        alternate(servers, args.rounds, args.seconds, args.connections)


if __name__ == "__main__":
    main()
