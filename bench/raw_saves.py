"""The write baseline: raw eventsourcing one-event saves from many threads."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Tick(Aggregate):
    @event("Ticked")
    def __init__(self, n: int) -> None:
        self.n = n


def raw_saves(db_url: str, threads: int = 16, seconds: float = 10.0) -> float:
    """Saves per second of new one-event aggregates, `threads` at a time, in a schema of
    their own on the database at `db_url`."""
    parts = urlsplit(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS raw_saves")
    app: Application[object] = Application(
        {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
            "POSTGRES_SCHEMA": "raw_saves",
            "POSTGRES_POOL_SIZE": str(threads),
        }
    )
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < deadline:
            app.save(Tick(n=i))
            counts[i] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    app.close()
    return sum(counts) / elapsed
