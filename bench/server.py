"""A real `experi serve` for benchmarks: a fresh account and key, started and stopped."""

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
from collections.abc import Iterator
from contextlib import contextmanager


def bench_env(database_url: str = "", **extra: str) -> dict[str, str]:
    """The environment of a benchmark server: a fresh data directory, limits high enough
    never to refuse (the cost of counting is measured, not refusals), and the database."""
    env = {
        **os.environ,
        "EXPERI_DATA_DIR": tempfile.mkdtemp(prefix="experi-bench-"),
        "EXPERI_READ_RATE_LIMIT": "1000000000",
        "EXPERI_WRITE_RATE_LIMIT": "1000000000",
        **extra,
    }
    if database_url:
        env["EXPERI_DATABASE_URL"] = database_url
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str, cwd: str | None = None) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


@contextmanager
def served(
    env: dict[str, str], workers: int = 1, cwd: str | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The server's port and the Authorization header of a new full-access key; `cwd`
    serves the checkout there (`python -m` puts the working directory first)."""
    account = cli(env, "accounts", "create", "--name", "Bench", "--email", "b@example.com",
                  "--plan", "pro", "--approve-api", "--json", cwd=cwd)  # fmt: skip
    key = cli(env, "keys", "create", "--account", account["id"], "--name", "bench",
              "--scopes", "all", "--json", cwd=cwd)  # fmt: skip
    port = free_port()
    with open(os.path.join(env["EXPERI_DATA_DIR"], "server.log"), "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port),
             "--workers", str(workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
        )  # fmt: skip
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            yield port, {"Authorization": f"Bearer {key['key']}"}
        finally:
            server.terminate()
            server.wait(timeout=30)


def post_json(url: str, headers: dict[str, str], body: object = None) -> dict[str, object]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(
        url, method="POST", data=data, headers={**headers, "Content-Type": "application/json"}
    )
    return json.load(urllib.request.urlopen(request))  # type: ignore[no-any-return]


def postgres_option(parser: argparse.ArgumentParser) -> None:
    """`--postgres`: the server a benchmark makes its throwaway database on."""
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1/postgres"),
    )
