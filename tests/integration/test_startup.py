"""Processes starting at once on one new store all start."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

import psycopg
import pytest

from api.services import build_services
from infrastructure.settings import Settings


def test_services_built_at_once_on_a_new_store_all_start(settings: Settings) -> None:
    def start(_: int) -> str:
        s = build_services(settings)
        try:
            return s.db.dialect
        finally:
            s.close()

    with ThreadPoolExecutor(6) as pool:
        started = list(pool.map(start, range(6)))
    assert len(started) == 6


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_process_starting_beside_a_writer_does_not_wait_for_it(settings: Settings) -> None:
    """Once the store is set up, a starting process runs no DDL on the views' tables: a
    CREATE INDEX IF NOT EXISTS would wait for every writer of the table (and could
    deadlock with a save that writes several)."""
    build_services(settings).close()  # the store, set up
    with psycopg.connect(settings.postgres.conninfo()) as writer, ThreadPoolExecutor(1) as pool:
        # A save under way: it holds the table as every INSERT does, until its COMMIT.
        writer.execute("LOCK TABLE view_invoices IN ROW EXCLUSIVE MODE")
        started = pool.submit(lambda: build_services(settings).close())
        try:
            finished = bool(wait([started], timeout=20).done)
        finally:
            writer.rollback()  # a start that waited for the writer goes on from here
    assert finished, "the starting process waited for the writer"
    started.result()
