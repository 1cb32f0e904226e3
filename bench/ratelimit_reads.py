"""GET /invoices/{id} with rate limits counted in PostgreSQL and in Redis, in one run.

Both servers use the same database and workers; only EXPERI_REDIS_URL differs. Runs
alternate (SQL, Redis, SQL, Redis) so drift on a shared machine shows up as spread.

Usage: python -m bench.ratelimit_reads [--seconds 8] [--connections 32] [--workers 2]
       [--redis redis://127.0.0.1:6379/14] [--rounds 2]
"""

from __future__ import annotations

import argparse
import uuid

import redis

from bench import load
from bench.server import bench_env, postgres_option, served
from bench.throughput import INVOICE, call, line, throwaway_database


def measure(env: dict[str, str], args: argparse.Namespace) -> load.Result:
    with served(env, args.workers) as (port, auth):
        client = call(port, "POST", "/api/v1/clients", auth, {"name": "Bench client"})
        invoice = call(
            port, "POST", "/api/v1/invoices", auth, {**INVOICE, "clientId": client["id"]}
        )
        path = f"/api/v1/invoices/{invoice['id']}"
        load.run("127.0.0.1", port, path, auth, 2, args.connections)  # warm up
        return load.run("127.0.0.1", port, path, auth, args.seconds, args.connections)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    postgres_option(parser)
    args = parser.parse_args()
    prefix = f"experi-bench:{uuid.uuid4().hex}:"
    with throwaway_database(args.postgres) as db_url:
        env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4")
        env.pop("EXPERI_REDIS_URL", None)
        with_redis = {**env, "EXPERI_REDIS_URL": args.redis, "EXPERI_REDIS_PREFIX": prefix}
        rows = []
        try:
            for n in range(args.rounds):
                rows.append(
                    line(f"GET /invoices/{{id}}, limits in SQL   #{n + 1}", measure(env, args))
                )
                rows.append(
                    line(
                        f"GET /invoices/{{id}}, limits in Redis #{n + 1}", measure(with_redis, args)
                    )
                )
        finally:
            client = redis.Redis.from_url(args.redis)
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)
    print(
        f"{args.workers} server workers, {args.connections} connections, {args.seconds:.0f} s each"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
