"""Requests per second of GET /api/v1/clients/{id} (key auth + rate limit + event store
read) against GET /health/live (no auth) on the same server, workers and run.

Usage: python -m bench.auth_overhead [--workers 2] [--seconds 10] [--connections 32]
       [--database-url postgresql://...]   (default: a fresh embedded SQLite store)
"""

from __future__ import annotations

import argparse

from bench.load import run
from bench.server import bench_env, post_json, served


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = bench_env(args.database_url)
    with served(env, args.workers) as (port, auth):
        base = f"http://127.0.0.1:{port}"
        client_id = post_json(f"{base}/api/v1/clients", auth, {"name": "Bench client"})["id"]
        guarded_path = f"/api/v1/clients/{client_id}"
        # Warm up both paths (connections, caches, the key's one bcrypt).
        run("127.0.0.1", port, guarded_path, auth, 2, args.connections)
        run("127.0.0.1", port, "/health/live", {}, 2, args.connections)
        baseline = run("127.0.0.1", port, "/health/live", {}, args.seconds, args.connections)
        guarded = run("127.0.0.1", port, guarded_path, auth, args.seconds, args.connections)
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(
        f"backend: {backend}; workers: {args.workers}; connections: {args.connections}; "
        f"{args.seconds:.0f} s per endpoint"
    )
    for name, result in (
        ("GET /health/live (no auth)", baseline),
        ("GET /api/v1/clients/{id}", guarded),
    ):
        print(
            f"{name:32} {result.rate:8.0f} req/s   p50 {result.percentile(0.5):6.1f} ms   "
            f"p99 {result.percentile(0.99):6.1f} ms   statuses {dict(result.statuses)}"
        )
    share = guarded.rate / baseline.rate
    print(f"overhead: the guarded read serves {share:.0%} of the baseline rate")


if __name__ == "__main__":
    main()
