"""Median latency of GET /api/v1/invoices/{id} for another account's id and an unknown id.

Both should cost the same: a caller must not learn from the clock that an id exists
in some other account. The caller's own invoice is timed too, for reference.

Usage: python -m bench.tenancy_timing [--requests 300] [--history 30]
       [--database-url postgresql://...]   (default: a fresh embedded SQLite store)
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import httpx

from bench.server import bench_env, cli, served


def invoice_with_history(web: httpx.Client, base: str, edits: int) -> str:
    """A DRAFT invoice edited `edits` times, so that loading it replays that many events."""
    client = web.post(f"{base}/api/v1/clients", json={"name": "Theirs"}).json()
    line = {"description": "Work", "quantity": 1, "unitPrice": 10}
    invoice = web.post(
        f"{base}/api/v1/invoices", json={"clientId": client["id"], "lineItems": [line]}
    ).json()
    for n in range(edits):
        web.patch(f"{base}/api/v1/invoices/{invoice['id']}", json={"notes": f"edit {n}"})
    return str(invoice["id"])


def timed(web: httpx.Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = web.get(url).status_code
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--history", type=int, default=30, help="edits of the other invoice")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = bench_env(args.database_url)
    with served(env, 1) as (port, mine):
        base = f"http://127.0.0.1:{port}"
        other = cli(env, "accounts", "create", "--name", "Other", "--email", "o@example.com",
                    "--plan", "pro", "--approve-api", "--json")  # fmt: skip
        key = cli(env, "keys", "create", "--account", other["id"], "--name", "other",
                  "--scopes", "all", "--json")  # fmt: skip
        theirs = {"Authorization": f"Bearer {key['key']}"}
        with httpx.Client(headers=theirs, timeout=30) as web:
            their_id = invoice_with_history(web, base, args.history)
        with httpx.Client(headers=mine, timeout=30) as web:
            own_id = invoice_with_history(web, base, args.history)
            urls = {
                "another account's id": f"{base}/api/v1/invoices/{their_id}",
                "unknown id": "",
                "own invoice (reference)": f"{base}/api/v1/invoices/{own_id}",
            }
            samples: dict[str, list[float]] = {name: [] for name in urls}
            statuses: dict[str, set[int]] = {name: set() for name in urls}
            for _ in range(20):  # warm up connections, caches and the key's one bcrypt
                timed(web, urls["another account's id"])
            # Interleaved, so that drift on the machine affects every kind alike.
            for _ in range(args.requests):
                for name, url in urls.items():
                    ms, status = timed(web, url or f"{base}/api/v1/invoices/{uuid.uuid4()}")
                    samples[name].append(ms)
                    statuses[name].add(status)
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(f"backend: {backend}; {args.requests} requests each; other invoice: "
          f"{args.history + 1} events")  # fmt: skip
    for name, values in samples.items():
        print(
            f"GET /api/v1/invoices/{{id}}  {name:24}  median {statistics.median(values):6.2f} ms"
            f"   p90 {statistics.quantiles(values, n=10)[-1]:6.2f} ms   statuses {statuses[name]}"
        )


if __name__ == "__main__":
    main()
