"""Which `experi serve` runs its background jobs in a process of their own: several
workers on PostgreSQL with the jobs on; otherwise every worker runs its own."""

from __future__ import annotations

import pytest

from api.jobs import runs_apart
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
