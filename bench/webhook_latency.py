"""Webhook delivery latency: from an event's commit (its `createdAt`) to the moment a
real receiver has it, over `experi serve` with a webhook endpoint; median and p99.

Baseline in the same run: the round trip of a plain POST to the same receiver from this
process (what any delivery must cost at least).

Usage: python -m bench.webhook_latency [--events 200] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from datetime import datetime

from bench.server import bench_env, post_json, served
from tests.webhook_receiver import Receiver


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = bench_env(
        args.database_url,
        EXPERI_WEBHOOK_ALLOW_HTTP="1",
        EXPERI_WEBHOOK_ALLOW_PRIVATE="1",
        EXPERI_WEBHOOK_RATE_PER_SECOND="1000",
    )
    receiver = Receiver()
    arrivals: dict[str, float] = {}
    with receiver:
        baseline = []
        for _ in range(args.events):
            started = time.perf_counter()
            request = urllib.request.Request(receiver.url(), data=b"{}", method="POST")
            urllib.request.urlopen(request).read()
            baseline.append((time.perf_counter() - started) * 1000)
        receiver.received.clear()
        receiver.hold = lambda got: arrivals.setdefault(got.webhook_id, time.time())
        with served(env, workers=2) as (port, auth):
            base = f"http://127.0.0.1:{port}/api/v1"
            made = post_json(f"{base}/webhook-endpoints", auth, {"url": receiver.url(),
                             "enabledEvents": ["client.created"]})  # fmt: skip
            receiver.secret = str(made["secret"])
            for n in range(args.events):
                post_json(f"{base}/clients", auth, {"name": f"Client {n}"})
                time.sleep(0.02)  # at rest between changes
            deadline = time.time() + 60
            while len(arrivals) < args.events and time.time() < deadline:
                time.sleep(0.1)
        latencies = []
        for got in receiver.received:
            event = json.loads(got.body)
            created = datetime.fromisoformat(event["createdAt"].replace("Z", "+00:00"))
            latencies.append((arrivals[got.webhook_id] - created.timestamp()) * 1000)
        assert all(got.verified for got in receiver.received)
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(f"backend: {backend}; {len(latencies)} of {args.events} events delivered; 2 workers")
    print(f"{'':<40}{'median ms':>10}{'p99 ms':>10}")
    print(f"{'commit to receiver (webhook)':<40}"
          f"{statistics.median(latencies):>10.1f}{percentile(latencies, 0.99):>10.1f}")  # fmt: skip
    print(f"{'baseline: one POST to the receiver':<40}"
          f"{statistics.median(baseline):>10.1f}{percentile(baseline, 0.99):>10.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
