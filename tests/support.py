"""Test helpers: a settable clock, Postgres test databases, accounts with keys."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from domain.meta import system_meta
from infrastructure.bootstrap import Services
from projections.state import StateCodec

POSTGRES_URL = os.environ.get(
    "EXPERI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("EXPERI_REQUIRE_POSTGRES") == "1"
META = system_meta("tests")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: Any) -> None:
        self.current += timedelta(**delta)


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def create_database() -> str:
    """A new, empty database for this test run; returns its URL."""
    name = f"experi_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_schema(db_url: str) -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(db_url: str, schema: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Tenant:
    """An account with a key, and the headers that use that key."""

    account_id: uuid.UUID
    key_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_tenant(services: Services, scopes: str = "all", name: str = "Acme Ltd") -> Tenant:
    account = services.app.create_account(name, "owner@example.com", "PRO", True, META)
    key = services.app.create_key(account.id, "test key", scopes.split(","), META)
    return Tenant(account.id, key.key.id, key.token)


def end_sessions(conninfo: str, pids: list[int] | None = None) -> int:
    """End the given sessions (by default every other one on this database), as a
    restart does, and wait until they are gone. Returns how many were ended."""
    with psycopg.connect(conninfo, autocommit=True) as admin:
        if pids is None:
            pids = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "the sessions did not end"
            time.sleep(0.02)
    return len(pids)


def state_of(aggregate: object) -> dict[str, object]:
    """An aggregate's attributes, but its pending events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def typed_prefix(cls: type) -> bytes:
    """How a row's state in `cls`'s typed encoding begins."""
    return f'["{cls.__module__}:{cls.__qualname__}",'.encode()


def assert_typed_round_trip(services: Services, aggregate: Any) -> None:
    """`aggregate`'s state is typed, and loads back, typed or generic, as it was; loaded
    and encoded again it gives the same bytes (a rebuild writes the same rows)."""
    codec = StateCodec(services.app.mapper)
    generic = StateCodec(services.app.mapper, typed={})
    encoded = codec.dump(aggregate)
    assert encoded.startswith(typed_prefix(type(aggregate)))
    typed_back = codec.load(aggregate.id, aggregate.version, encoded)
    generic_back = generic.load(aggregate.id, aggregate.version, generic.dump(aggregate))
    assert state_of(typed_back) == state_of(aggregate) == state_of(generic_back)
    assert codec.dump(typed_back) == encoded
