"""Target 3's write tail, this build under two settings side by side.

As `bench.write_tail` (both served at once on their own throwaway databases, paced
windows of POST /invoices over 16 accounts alternating between them at 70% of the lower
maximum), but one build with two environments: for settings such as
`EXPERI_COMMAND_THREADS`. Also prints the machine's CPU time and context switches per
request, which vary less from window to window than a p99.

Usage: python -m bench.settings_tail --a EXPERI_COMMAND_THREADS=8 --b EXPERI_COMMAND_THREADS=4
       [--rounds 8] [--seconds 5] [--connections 32] [--workers 2] [--postgres URL]
Each of --a and --b is a comma-separated list of NAME=VALUE (empty: the defaults).
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack

from bench.server import bench_env, postgres_option, served
from bench.throughput import throwaway_database
from bench.write_tail import accounts, alternate


def settings(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 or not pair[0].startswith("EXPERI_") for pair in pairs):
        raise SystemExit(f"not a list of EXPERI_NAME=VALUE: {text!r}")
    return {name.strip(): value.strip() for name, value in pairs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", default="", help="the first server's settings")
    parser.add_argument("--b", default="", help="the second server's settings")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    postgres_option(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        servers = {}
        for name, text in (("a", args.a), ("b", args.b)):
            db_url = stack.enter_context(throwaway_database(args.postgres))
            env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4", **settings(text))
            port, _ = stack.enter_context(served(env, args.workers))
            servers[name] = (port, *accounts(env, port))
        print(f"a: {args.a or 'defaults'}; b: {args.b or 'defaults'}; {args.workers} server "
              f"workers, {args.connections} connections, {args.seconds:g} s windows")  # fmt: skip
        alternate(servers, args.rounds, args.seconds, args.connections)


if __name__ == "__main__":
    main()
