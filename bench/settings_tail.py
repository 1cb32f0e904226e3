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

from bench.write_tail import alternate, start, window_options


def settings(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 or not pair[0].startswith("EXPERI_") for pair in pairs):
        raise SystemExit(f"not a list of EXPERI_NAME=VALUE: {text!r}")
    return {name.strip(): value.strip() for name, value in pairs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", default="", help="the first server's settings")
    parser.add_argument("--b", default="", help="the second server's settings")
    window_options(parser)
    args = parser.parse_args()
    with ExitStack() as stack:
        servers = {name: start(stack, args, settings(text))
                   for name, text in (("a", args.a), ("b", args.b))}  # fmt: skip
        print(f"a: {args.a or 'defaults'}; b: {args.b or 'defaults'}; {args.workers} server "
              f"workers, {args.connections} connections, {args.seconds:g} s windows")  # fmt: skip
        alternate(servers, args.rounds, args.seconds, args.connections)


if __name__ == "__main__":
    main()
