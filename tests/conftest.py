"""Fixtures: every integration and API test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests import support

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """One database per test run (per worker), dropped at the end."""
    if not support.postgres_available():
        if support.REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (EXPERI_REQUIRE_POSTGRES=1) but unreachable")
        yield None
        return
    url = support.create_database()
    try:
        yield url
    finally:
        support.drop_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, postgres_database: str | None) -> Iterator[Settings]:
    env = {
        "EXPERI_DATA_DIR": str(tmp_path / "data"),
        "EXPERI_BCRYPT_ROUNDS": "4",
        # Tests drive the outbox themselves (services.outbox.run_once) for determinism.
        "EXPERI_BACKGROUND_JOBS": "0",
    }
    if backend == "sqlite":
        yield Settings.from_env(env)
        return
    if postgres_database is None:
        pytest.skip("PostgreSQL is not reachable")
    schema = support.create_schema(postgres_database)
    env["EXPERI_DATABASE_URL"] = f"{postgres_database}?schema={schema}"
    try:
        yield Settings.from_env(env)
    finally:
        support.drop_schema(postgres_database, schema)


@pytest.fixture
def clock() -> support.FakeClock:
    return support.FakeClock()


@pytest.fixture
def services(settings: Settings, clock: support.FakeClock) -> Iterator[Services]:
    s = build_services(settings, clock)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def postgres(settings: Settings, request: pytest.FixtureRequest) -> Services:
    """`services` on PostgreSQL, for tests of what only PostgreSQL does (parametrize the
    test with `backend` "postgres"); skipped on SQLite before any is built."""
    if settings.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    return request.getfixturevalue("services")  # type: ignore[no-any-return]


@pytest.fixture
def client(services: Services, settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(settings, services=services)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def tenant(services: Services) -> support.Tenant:
    return support.make_tenant(services)


@pytest.fixture
def other_tenant(services: Services) -> support.Tenant:
    return support.make_tenant(services, name="Other Co")
