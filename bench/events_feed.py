"""The events feed's read rate: events/s through GET /api/v1/events, against the same
rows read straight from the database in the same run (the baseline).

Seeds N events through the API (invoices, half of them then paid), then reads the
whole feed page by page (`limit=100`), over one connection and over several at once.

Usage: python -m bench.events_feed [--invoices 1000] [--rounds 3] [--readers 4]
       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.server import bench_env, post_json, served

PAGE = 100


def get(url: str, headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, headers=headers)
    return json.load(urllib.request.urlopen(request))  # type: ignore[no-any-return]


def read_feed(base: str, auth: dict[str, str]) -> int:
    """Every event of the account, page by page; returns how many."""
    count, cursor = 0, None
    while True:
        url = f"{base}/events?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        page = get(url, auth)
        count += len(page["data"])  # type: ignore[arg-type]
        pagination = page["pagination"]
        cursor = pagination["nextCursor"]  # type: ignore[index]
        if not pagination["hasMore"]:  # type: ignore[index]
            return count


def read_rows(database_url: str, data_dir: str) -> int:
    """The baseline: the same rows, the same pages, straight from the database."""
    sql = "SELECT seq, body FROM view_events WHERE seq > {} ORDER BY seq LIMIT {}"
    count, after = 0, 0
    if database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            while rows := conn.execute(sql.format("%s", "%s"), (after, PAGE)).fetchall():
                count, after = count + len(rows), rows[-1][0]
                [json.loads(r[1]) for r in rows]
        return count
    with sqlite3.connect(Path(data_dir) / "experi.sqlite3") as conn:
        while rows := conn.execute(sql.format("?", "?"), (after, PAGE)).fetchall():
            count, after = count + len(rows), rows[-1][0]
            [json.loads(r[1]) for r in rows]
    return count


def timed(work: object, *args: object) -> tuple[int, float]:
    started = time.perf_counter()
    count = work(*args)  # type: ignore[operator]
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = bench_env(args.database_url)
    with served(env, workers=2) as (port, auth):
        base = f"http://127.0.0.1:{port}/api/v1"
        client = post_json(f"{base}/clients", auth, {"name": "John", "email": "j@acme.com"})
        line = [{"description": "Work", "quantity": 1, "unitPrice": 100}]
        started = time.perf_counter()
        for n in range(args.invoices):
            body = {"clientId": client["id"], "lineItems": line, "status": "SENT"}
            invoice = post_json(f"{base}/invoices", auth, body)
            if n % 2:
                post_json(f"{base}/invoices/{invoice['id']}/paid", auth)
        seeded = time.perf_counter() - started
        events = read_feed(base, auth)
        print(
            f"backend: {'postgresql' if args.database_url else 'sqlite (embedded)'}; "
            f"{events:,} events seeded through the API in {seeded:.1f} s; 2 server workers"
        )
        print(f"{'':<44}{'events/s':>10}{'baseline':>10}{'ratio':>7}")
        for _ in range(args.rounds):
            n, api = timed(read_feed, base, auth)
            m, raw = timed(read_rows, args.database_url, env["EXPERI_DATA_DIR"])
            assert n == m == events
            print(f"{'one reader, pages of 100':<44}{n / api:>10,.0f}{m / raw:>10,.0f}"
                  f"{(n / api) / (m / raw):>7.2f}")  # fmt: skip
        with ThreadPoolExecutor(args.readers) as pool:
            started = time.perf_counter()
            total = sum(pool.map(lambda _: read_feed(base, auth), range(args.readers)))
            many = time.perf_counter() - started
        print(f"{f'{args.readers} readers at once, pages of 100':<44}{total / many:>10,.0f}")


if __name__ == "__main__":
    main()
