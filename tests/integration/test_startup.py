"""Processes starting at once on one new store all start."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
