"""What handing each command to a thread costs a POST /invoices, in one server process.

The app is called in process (no sockets: what is left is the server's own work) by 32
concurrent requests over 16 accounts on PostgreSQL, in rounds that alternate between
commands run as served (in the command threads, `api/context.py`) and each command
run on the event loop itself, blocking it for its database round trips. The second is
no way to serve (a command waiting on an account's numbering lock, or a bcrypt check,
would stall every request of the process); it is the floor that a write path whose
database round trips were awaited on the loop would approach. Each round gives the
process's CPU per POST split into the event loop's thread and the others, the
PostgreSQL server's CPU per POST, and context switches per POST; the medians close.

Usage: python -m bench.command_handoff [--requests 3200] [--rounds 8]
       [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.rebuild import postgres_cpu
from bench.server import bench_env, postgres_option
from bench.throughput import INVOICE, extra_keys, throwaway_database

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> tuple[float, float]:
    """CPU seconds of the event loop's thread (this one) and of all the others."""
    loop, others = 0.0, 0.0
    me = str(threading.get_native_id())
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        spent = (int(fields[11]) + int(fields[12])) / TICKS
        if tid == me:
            loop += spent
        else:
            others += spent
    return loop, others


def context_switches() -> int:
    """Voluntary and forced, of every thread of this process."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/status") as f:
                total += sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
        except OSError:
            continue  # ended meanwhile
    return total


async def call(app: Any, path: str, headers: dict[str, str], body: object) -> tuple[int, bytes]:
    data = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    reply: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply["status"] = message["status"]
        else:
            reply["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return reply["status"], reply["body"]


async def run_here(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`api.context.run` with no thread: the command blocks the event loop."""
    return func(*args, **kwargs)


def on_the_loop(inline: bool, served: Callable[..., Any]) -> None:
    """Commands from now on run in the command threads (`served`), or on the loop."""
    for name, module in list(sys.modules.items()):
        if name.startswith("api.") and getattr(module, "run", None) in (served, run_here):
            module.run = run_here if inline else served  # type: ignore[attr-defined]


async def measure(db_url: str, requests: int, rounds: int) -> None:
    env = bench_env(f"{db_url}?schema=public", EXPERI_BCRYPT_ROUNDS="4")
    env["EXPERI_BACKGROUND_JOBS"] = "0"  # the jobs process is not on a request's path
    keys = extra_keys(env, 16)
    os.environ.update(env)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the access log, one line a request
    import api.context
    from api.app import app_from_env

    app = app_from_env()
    served = api.context.run
    lifespan: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: dict[str, Any]) -> None:
        started.set()

    life = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, lifespan.get,
            lifespan_send)
    )  # fmt: skip
    await lifespan.put({"type": "lifespan.startup"})
    await started.wait()
    bodies = []
    for key in keys:
        _, body = await call(app, "/api/v1/clients", key, {"name": "Bench client"})
        bodies.append({**INVOICE, "clientId": json.loads(body)["id"]})

    async def connection(i: int, n: int) -> None:
        for _ in range(n):
            status, body = await call(app, "/api/v1/invoices", keys[i % 16], bodies[i % 16])
            if status != 201:
                raise RuntimeError(f"POST /invoices answered {status}: {body[:200]!r}")

    per_connection = max(1, requests // 32)
    await asyncio.gather(*(connection(i, 10) for i in range(32)))  # warm both ways
    figures: dict[bool, list[tuple[float, ...]]] = {False: [], True: []}
    for r in range(rounds):
        inline = r % 2 == 1
        on_the_loop(inline, served)
        loop0, others0 = thread_cpu()
        pg0, switches0, t0 = postgres_cpu() or 0.0, context_switches(), time.perf_counter()
        await asyncio.gather(*(connection(i, per_connection) for i in range(32)))
        seconds = time.perf_counter() - t0
        loop1, others1 = thread_cpu()
        pg1, switches1 = postgres_cpu() or 0.0, context_switches()
        n = per_connection * 32
        row = (
            1000 * (loop1 - loop0 + others1 - others0) / n,
            1000 * (loop1 - loop0) / n,
            1000 * (others1 - others0) / n,
            1000 * (pg1 - pg0) / n,
            (switches1 - switches0) / n,
            n / seconds,
        )
        figures[inline].append(row)
        print(
            f"round {r + 1} {'on the loop' if inline else 'in threads '}: {row[0]:.3f} ms "
            f"CPU per POST (loop {row[1]:.3f}, other threads {row[2]:.3f}), PostgreSQL "
            f"{row[3]:.3f} ms, {row[4]:.1f} context switches, {row[5]:,.0f}/s",
            file=sys.stderr,
        )
    on_the_loop(False, served)
    await lifespan.put({"type": "lifespan.shutdown"})
    await life
    for inline, rows in figures.items():
        if rows:
            med = [statistics.median(col) for col in zip(*rows, strict=True)]
            print(
                f"{'on the loop' if inline else 'in threads'} (median of {len(rows)}): "
                f"{med[0]:.3f} ms CPU per POST (loop {med[1]:.3f}, other threads "
                f"{med[2]:.3f}), PostgreSQL {med[3]:.3f} ms, {med[4]:.1f} context "
                f"switches, {med[5]:,.0f}/s",
                file=sys.stderr,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3200, help="POSTs per round")
    parser.add_argument("--rounds", type=int, default=8)
    postgres_option(parser)
    args = parser.parse_args()
    with throwaway_database(args.postgres) as db_url:
        asyncio.run(measure(db_url, args.requests, args.rounds))


if __name__ == "__main__":
    main()
