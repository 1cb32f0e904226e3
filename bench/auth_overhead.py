"""Requests per second of GET /api/v1/clients/{id} (key auth + rate limit + event store
read) against GET /health/live (no auth) on the same server, workers and run.

Usage: python -m bench.auth_overhead [--workers 2] [--seconds 10] [--connections 32]
       [--database-url postgresql://...]   (default: a fresh embedded SQLite store)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.load import run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="experi-bench-")
    env = {
        **os.environ,
        "EXPERI_DATA_DIR": data_dir,
        # Generous limits: this measures the cost of the checks, not refusals.
        "EXPERI_READ_RATE_LIMIT": "100000000",
        "EXPERI_WRITE_RATE_LIMIT": "100000000",
    }
    if args.database_url:
        env["EXPERI_DATABASE_URL"] = args.database_url
    account = cli(
        env,
        "accounts",
        "create",
        "--name",
        "Bench",
        "--email",
        "b@example.com",
        "--plan",
        "pro",
        "--approve-api",
        "--json",
    )
    key = cli(
        env,
        "keys",
        "create",
        "--account",
        account["id"],
        "--name",
        "bench",
        "--scopes",
        "all",
        "--json",
    )
    port = free_port()
    log = open(os.path.join(data_dir, "server.log"), "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health/live", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {key['key']}"}
        request = urllib.request.Request(
            f"{base}/api/v1/clients",
            method="POST",
            data=b'{"name": "Bench client"}',
            headers={**auth, "Content-Type": "application/json"},
        )
        client_id = json.load(urllib.request.urlopen(request))["id"]
        # Warm up both paths (connections, caches, the key's one bcrypt).
        run("127.0.0.1", port, f"/api/v1/clients/{client_id}", auth, 2, args.connections)
        run("127.0.0.1", port, "/health/live", {}, 2, args.connections)
        baseline = run("127.0.0.1", port, "/health/live", {}, args.seconds, args.connections)
        guarded = run(
            "127.0.0.1", port, f"/api/v1/clients/{client_id}", auth, args.seconds, args.connections
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
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
    print(
        f"overhead: the guarded read serves {guarded.rate / baseline.rate:.0%} of the baseline rate"
    )


if __name__ == "__main__":
    main()
