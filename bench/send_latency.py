"""How long a send takes to reach the SMTP server at rest: the median of 20.

Starts a real SMTP server (aiosmtpd) in this process and `experi serve` with
EXPERI_SMTP_URL pointing at it, then times POST /invoices/{id}/send until the
message has been received.

Usage: python -m bench.send_latency [--sends 20] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench.auth_overhead import cli, free_port
from tests.mail_server import MailServer


def post(
    url: str, headers: dict[str, str], body: dict[str, object] | None = None
) -> dict[str, object]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(
        url, method="POST", data=data, headers={**headers, "Content-Type": "application/json"}
    )
    return json.load(urllib.request.urlopen(request))  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    mail = MailServer().start()
    data_dir = tempfile.mkdtemp(prefix="experi-bench-")
    env = {**os.environ, "EXPERI_DATA_DIR": data_dir, "EXPERI_SMTP_URL": mail.url}
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
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    auth = {"Authorization": f"Bearer {key['key']}"}
    timings = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        client = post(f"{base}/clients", auth, {"name": "John Doe", "email": "john@acme.com"})
        line = [{"description": "Web Development", "quantity": 10, "unitPrice": 75}]
        invoice = post(f"{base}/invoices", auth, {"clientId": client["id"], "lineItems": line})
        post(f"{base}/invoices/{invoice['id']}/send", auth)  # warm-up
        mail.wait_for(1)
        for n in range(args.sends):
            time.sleep(0.3)  # at rest between sends
            started = time.perf_counter()
            post(f"{base}/invoices/{invoice['id']}/send", auth)
            mail.wait_for(n + 2, timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        mail.stop()
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(f"backend: {backend}; {len(timings)} sends, each until the SMTP server had the message")
    print(
        f"median {statistics.median(timings):.1f} ms   min {min(timings):.1f} ms   "
        f"max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
