"""How long a send takes to reach the SMTP server at rest: the median of 15 (the
warm-up and 15 sends stay within one address's daily email limit, 20).

Starts a real SMTP server (aiosmtpd) in this process and `experi serve` with
EXPERI_SMTP_URL pointing at it, then times POST /invoices/{id}/send until the
message has been received.

Usage: python -m bench.send_latency [--sends 15] [--workers 1] [--rest 0.3]
       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench.server import post_json, served
from tests.mail_server import MailServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rest", type=float, default=0.3, help="seconds between sends")
    args = parser.parse_args()
    mail = MailServer().start()
    env = {
        **os.environ,
        "EXPERI_DATA_DIR": tempfile.mkdtemp(prefix="experi-bench-"),
        "EXPERI_SMTP_URL": mail.url,
    }
    if args.database_url:
        env["EXPERI_DATABASE_URL"] = args.database_url
    timings = []
    try:
        with served(env, args.workers) as (port, auth):
            base = f"http://127.0.0.1:{port}/api/v1"
            client = post_json(f"{base}/clients", auth, {"name": "John", "email": "j@acme.com"})
            line = [{"description": "Web Development", "quantity": 10, "unitPrice": 75}]
            invoice = post_json(
                f"{base}/invoices", auth, {"clientId": client["id"], "lineItems": line}
            )
            post_json(f"{base}/invoices/{invoice['id']}/send", auth)  # warm-up
            mail.wait_for(1)
            for n in range(args.sends):
                time.sleep(args.rest)  # at rest between sends
                started = time.perf_counter()
                post_json(f"{base}/invoices/{invoice['id']}/send", auth)
                mail.wait_for(n + 2, timeout=30)
                # When the SMTP server accepted it, not when this thread next looked.
                timings.append((mail.inbox.arrived[n + 1] - started) * 1000)
    finally:
        mail.stop()
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(
        f"backend: {backend}; {args.workers} workers; {len(timings)} sends, each until the "
        "SMTP server had the message"
    )
    print(
        f"median {statistics.median(timings):.1f} ms   min {min(timings):.1f} ms   "
        f"max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
