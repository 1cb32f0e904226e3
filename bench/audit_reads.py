"""An audit read right after a write: waiting for a worker against catching up itself.

An audit read lists every change that has had a response. Before, each read caught the
views that follow the event log up itself, under a lock every process shares, applying
whatever every account had written since the last pass. Now, where a worker follows
the log, the read asks it and waits (`Projector.settle`). Both are timed here in one
run, alternating request by request on the same store (the baseline: the same services
with no worker to wait for, which is how every read behaved before):

- PostgreSQL, `experi serve --workers N` style: a request worker
  (`EXPERI_BACKGROUND_JOBS=apart`) beside a jobs process (background jobs and the
  commit listener, here in the same Python process, as separate services);
- SQLite, one process whose background jobs run in it (the embedded default).

Each write is a client update through the worker's services, then the audit read of
that account's latest entries, timed alone.

Usage: python -m bench.audit_reads [--requests 60]
       [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable

from api.services import build_services
from bench.seed import META, seed_account
from bench.server import postgres_option
from bench.throughput import throwaway_database
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter


def timed_pairs(s: Services, n: int) -> tuple[list[float], list[float]]:
    """`n` writes, each followed by an audit read: waiting and catching up in turn."""
    account_id = seed_account(s, "Audited").account_id
    client = s.app.create_client(account_id, {"name": "Audited"}, META)
    following = s.projector.following
    assert following is not None, "no worker to wait for"
    waited, caught_up = [], []
    for k in range(2 * n):
        s.projector.following = following if k % 2 == 0 else None
        s.app.update_client(account_id, client.id, {"city": f"York {k}"}, META)
        started = time.perf_counter()
        page = s.queries.audit_log(account_id, AuditFilter(), 5, None)
        (waited if k % 2 == 0 else caught_up).append((time.perf_counter() - started) * 1000)
        assert page.items[-1]["action"] == "client.updated"
    s.projector.following = following
    return waited, caught_up


def report(name: str, figures: tuple[list[float], list[float]]) -> None:
    def line(label: str, ms: list[float]) -> str:
        ordered = sorted(ms)
        p90 = ordered[int(len(ordered) * 0.9)]
        median = statistics.median(ms)
        return f"{label} median {median:6.2f} ms, p90 {p90:6.2f}, max {ordered[-1]:6.2f}"

    print(name)
    print("  " + line("waits for the worker:      ", figures[0]))
    print("  " + line("catches up itself (before):", figures[1]))


def on_postgres(url: str, n: int) -> tuple[list[float], list[float]]:
    env = {"EXPERI_DATA_DIR": tempfile.mkdtemp(), "EXPERI_BCRYPT_ROUNDS": "4"}
    settings = Settings.from_env({**env, "EXPERI_DATABASE_URL": f"{url}?schema=public"})
    jobs = build_services(dataclasses.replace(settings, background_jobs=True))
    worker = build_services(
        dataclasses.replace(settings, background_jobs=False, jobs_elsewhere=True)
    )
    listener = jobs.commit_listener()
    try:
        jobs.start_background_jobs()
        listener.start()
        assert listener.listening(10)
        return timed_pairs(worker, n)
    finally:
        listener.stop()
        worker.close()
        jobs.close()


def on_sqlite(n: int) -> tuple[list[float], list[float]]:
    env = {"EXPERI_DATA_DIR": tempfile.mkdtemp(), "EXPERI_BCRYPT_ROUNDS": "4"}
    s = build_services(Settings.from_env(env))
    try:
        s.start_background_jobs()
        return timed_pairs(s, n)
    finally:
        s.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    postgres_option(parser)
    args = parser.parse_args()
    runs: list[tuple[str, Callable[[], tuple[list[float], list[float]]]]] = [
        ("SQLite, one process with its background jobs", lambda: on_sqlite(args.requests)),
    ]
    with throwaway_database(args.postgres) as url:
        runs.insert(
            0,
            (
                "PostgreSQL, a request worker beside a jobs process",
                lambda: on_postgres(url, args.requests),
            ),
        )
        for name, run in runs:
            report(name, run())


if __name__ == "__main__":
    main()
