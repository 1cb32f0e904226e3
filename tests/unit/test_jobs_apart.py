"""Which `experi serve` runs its background jobs in a process of their own: several
workers on PostgreSQL with the jobs on; otherwise every worker runs its own."""

from __future__ import annotations

import pytest

from api.jobs import WORKER_ENV, runs_apart
from infrastructure.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.mark.parametrize(
    ("env", "workers", "apart"),
    [
        ({"EXPERI_DATABASE_URL": PG}, 2, True),
        ({"EXPERI_DATABASE_URL": PG}, 4, True),
        ({"EXPERI_DATABASE_URL": PG}, 1, False),  # one worker runs them itself
        ({"EXPERI_DATABASE_URL": PG, "EXPERI_BACKGROUND_JOBS": "0"}, 2, False),  # none at all
        ({}, 2, False),  # the embedded SQLite store announces no commits
    ],
)
def test_the_jobs_run_apart_only_with_several_workers_on_postgres(
    env: dict[str, str], workers: int, apart: bool
) -> None:
    assert (
        runs_apart(Settings.from_env({"EXPERI_DATA_DIR": "/nonexistent", **env}), workers) is apart
    )


def test_the_workers_beside_a_jobs_process_know_the_jobs_run_elsewhere() -> None:
    base = {"EXPERI_DATA_DIR": "/nonexistent", "EXPERI_DATABASE_URL": PG}
    worker = Settings.from_env({**base, **WORKER_ENV})
    assert (worker.background_jobs, worker.jobs_elsewhere) == (False, True)
    assert not runs_apart(worker, 2)  # a worker starts no jobs process of its own
    alone = Settings.from_env({**base, "EXPERI_BACKGROUND_JOBS": "0"})
    assert (alone.background_jobs, alone.jobs_elsewhere) == (False, False)
    here = Settings.from_env(base)
    assert (here.background_jobs, here.jobs_elsewhere) == (True, False)


@pytest.mark.parametrize("value", ["yes", "2", "off", "Apart"])
def test_an_unknown_background_jobs_value_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="EXPERI_BACKGROUND_JOBS must be 1, 0 or apart"):
        Settings.from_env({"EXPERI_DATA_DIR": "/nonexistent", "EXPERI_BACKGROUND_JOBS": value})
