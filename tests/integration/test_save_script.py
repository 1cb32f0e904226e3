"""A save on PostgreSQL is sent as one script with its values quoted as literals: what
comes back is exactly what was saved, and a save that conflicts leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import tuple_row

from api.services import build_services
from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.eventstore import SCRIPT_BYTES
from infrastructure.prepared import PreparedStatements
from infrastructure.settings import Settings
from tests.support import META, FakeClock, make_tenant

# Any text PostgreSQL can store: no NUL, no lone surrogates.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
AWKWARD = 'O\'Brien \\ 100% ? %s $1 "x" ;-- COMMIT; ☃\n\t'


def _counts(settings: Settings) -> tuple[int, int, int]:
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM experi_events), (SELECT count(*) FROM audit_chain), "
            "(SELECT count(*) FROM view_events)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_awkward_text_comes_back_exactly(postgres: Services) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": AWKWARD}, META)
    assert postgres.app.get_client(tenant.account_id, client.id).name == AWKWARD
    assert postgres.app.repository.get(client.id).name == AWKWARD  # from its events


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_any_text_round_trips_through_the_rows_and_the_events(postgres: Services) -> None:
    tenant = make_tenant(postgres)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=TEXT.filter(str.strip), notes=TEXT)
    def saved(name: str, notes: str) -> None:
        details = {"name": name, "notes": notes}
        client = postgres.app.create_client(tenant.account_id, details, META)
        for got in (
            postgres.app.get_client(tenant.account_id, client.id),
            postgres.app.repository.get(client.id),
        ):
            assert got.details["name"] == name and got.details["notes"] == notes

    saved()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_conflicting_save_leaves_nothing_and_holds_no_lock(
    postgres: Services, settings: Settings
) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "Before"}, META)
    stale = postgres.app.repository.get(client.id)
    postgres.app.update_client(tenant.account_id, client.id, {"name": "Winner"}, META)
    before = _counts(settings)
    stale.update({"name": "Loser"}, postgres.app.clock.now(), META)
    with pytest.raises(IntegrityError):
        postgres.app.save(stale)
    assert _counts(settings) == before  # no event, no audit link, no feed row
    assert postgres.app.get_client(tenant.account_id, client.id).name == "Winner"
    # The event table's lock went with the aborted block: another process saves at once.
    other = build_services(settings, FakeClock())
    try:
        with psycopg.connect(settings.postgres.conninfo()) as conn:
            conn.execute("SET lock_timeout = '2s'")
            conn.execute("LOCK TABLE experi_events IN SHARE MODE")  # nobody holds it
        moved = other.app.update_client(tenant.account_id, client.id, {"name": "Next"}, META)
        assert moved.name == "Next"
    finally:
        other.close()
    assert _counts(settings)[0] == before[0] + 1


def on_the_next_save(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    around: Callable[[Any], AbstractContextManager[Any]],
) -> list[int]:
    """The next save uses its connection through `around` (later saves are left
    alone). Returns a list that gets one item when that happens."""
    recorder = services.app.recorder
    real_connection, real_insert = recorder.save_connection, recorder.insert_events
    saving: list[int] = []
    done: list[int] = []

    @contextmanager
    def connection(held: Any) -> Iterator[Any]:
        with real_connection(held) as conn:
            if saving and not done:
                done.append(1)
                with around(conn) as used:
                    yield used
            else:
                yield conn

    def insert(*args: Any, **kwargs: Any) -> Any:
        saving.append(1)
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(recorder, "save_connection", connection)
    monkeypatch.setattr(recorder, "insert_events", insert)
    return done


def lose_the_next_reply(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next save's statements run and commit, then its reply never comes (the
    connection drops): the save raises OperationalError."""

    @contextmanager
    def reply_lost(conn: Any) -> Iterator[Any]:
        yield conn
        raise OperationalError("server closed the connection unexpectedly")

    return on_the_next_save(services, monkeypatch, reply_lost)


LINES = (LineItem("Work", Decimal(1), Decimal(10)),)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_invoice_whose_reply_is_lost_after_its_commit_is_not_created_again(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    before = _counts(settings)
    lost = lose_the_next_reply(postgres, monkeypatch)
    with pytest.raises(OperationalError):  # unknown outcome: a 503, not a second run
        postgres.app.create_invoice(
            tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES), META
        )
    monkeypatch.undo()
    assert lost == [1]
    # The account's counter (created, one number taken) and one invoice, once.
    assert _counts(settings)[0] == before[0] + 3
    with psycopg.connect(settings.postgres.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM view_invoices").fetchone() == (1,)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_payment_whose_reply_is_lost_after_its_commit_is_recorded_once(
    postgres: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    invoice = postgres.app.create_invoice(tenant.account_id, new, META)
    lost = lose_the_next_reply(postgres, monkeypatch)
    with pytest.raises(OperationalError):
        postgres.app.record_payment(
            tenant.account_id, invoice.id, Decimal(4), None, None, None, META
        )
    monkeypatch.undo()
    assert lost == [1]
    stored = postgres.app.get_invoice(tenant.account_id, invoice.id)
    assert [p.amount for p in stored.payments] == [Decimal("4.00")]


class _FailingFirst:
    """A connection whose next cursor's first script fails with `error` before it reaches
    the server (as a deadlock's victim or a lock timeout would see it)."""

    def __init__(self, conn: Any, error: Exception) -> None:
        self._conn, self._error = conn, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @contextmanager
    def cursor(self, **kwargs: Any) -> Iterator[Any]:
        with self._conn.cursor(**kwargs) as real:
            error = self._error

            class Cursor:
                def execute(self, text: str) -> None:
                    raise error

                def __getattr__(self, name: str) -> Any:
                    return getattr(real, name)

            yield Cursor()


def fail_the_next_save(
    services: Services, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> list[int]:
    @contextmanager
    def failing(conn: Any) -> Iterator[Any]:
        yield _FailingFirst(conn, error)

    return on_the_next_save(services, monkeypatch, failing)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_save_rolled_back_as_a_deadlock_victim_goes_again_once(
    postgres: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    invoice = postgres.app.create_invoice(tenant.account_id, new, META)
    failed = fail_the_next_save(
        postgres, monkeypatch, psycopg.errors.DeadlockDetected("deadlock detected")
    )
    paid, _ = postgres.app.record_payment(
        tenant.account_id, invoice.id, Decimal(4), None, None, None, META
    )
    monkeypatch.undo()
    assert failed == [1]
    stored = postgres.app.get_invoice(tenant.account_id, invoice.id)
    assert (
        [p.amount for p in stored.payments]
        == [Decimal("4.00")]
        == [p.amount for p in paid.payments]
    )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_save_that_timed_out_on_the_lock_is_not_sent_again(
    postgres: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    invoice = postgres.app.create_invoice(tenant.account_id, new, META)
    timeout = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    failed = fail_the_next_save(postgres, monkeypatch, timeout)
    with pytest.raises(OperationalError):  # a 503: the client retries with its key
        postgres.app.record_payment(
            tenant.account_id, invoice.id, Decimal(4), None, None, None, META
        )
    monkeypatch.undo()
    assert failed == [1]
    assert postgres.app.get_invoice(tenant.account_id, invoice.id).payments == ()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_large_save_goes_bound_and_a_conflicting_one_leaves_nothing(
    postgres: Services, settings: Settings
) -> None:
    """Past SCRIPT_BYTES of values a save is pipelined with its values bound: the same
    text back, and the same all-or-nothing on a conflict."""
    tenant = make_tenant(postgres)
    notes = AWKWARD * 1_500  # about 50 KB
    assert len(notes.encode()) > SCRIPT_BYTES
    client = postgres.app.create_client(tenant.account_id, {"name": "N", "notes": notes}, META)
    assert postgres.app.get_client(tenant.account_id, client.id).details["notes"] == notes
    assert postgres.app.repository.get(client.id).details["notes"] == notes
    stale = postgres.app.repository.get(client.id)
    postgres.app.update_client(tenant.account_id, client.id, {"notes": notes + "!"}, META)
    before = _counts(settings)
    stale.update({"notes": notes + "?"}, postgres.app.clock.now(), META)
    with pytest.raises(IntegrityError):
        postgres.app.save(stale)
    assert _counts(settings) == before
    assert postgres.app.get_client(tenant.account_id, client.id).details["notes"] == notes + "!"
    with psycopg.connect(settings.postgres.conninfo()) as conn:
        conn.execute("SET lock_timeout = '2s'")
        conn.execute("LOCK TABLE experi_events IN SHARE MODE")  # nobody holds it


def _prepared_on(conn: Any) -> int:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'experi%'")
        row = cur.fetchone()
    return int(row[0])


class _ForgettingFirst:
    """A connection whose server forgets its prepared statements (as `DISCARD ALL` or a
    pooler's reset would) just before its next script arrives."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.forgot: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @contextmanager
    def cursor(self, **kwargs: Any) -> Iterator[Any]:
        with self._conn.cursor(**kwargs) as real:
            conn, forgot = self._conn, self.forgot

            class Cursor:
                def execute(self, text: str) -> None:
                    assert "EXECUTE experi_" in text  # the script runs prepared statements
                    if not forgot:
                        forgot.append(1)
                        conn.execute("DEALLOCATE ALL")
                    real.execute(text)

                def __getattr__(self, name: str) -> Any:
                    return getattr(real, name)

            yield Cursor()


def _second_invoice(
    postgres: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    around: Callable[[Any], AbstractContextManager[Any]],
) -> tuple[Any, NewInvoice, tuple[int, int, int], Any, list[int]]:
    """A tenant's first invoice, then a second whose save uses its connection through
    `around`: the tenant, the request, the counts before the second, the second, and
    whether `around` was used."""
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    new = NewInvoice(client_id=client.id, line_items=LINES, status="SENT")
    postgres.app.create_invoice(tenant.account_id, replace(new, id=uuid4()), META)
    before = _counts(settings)
    done = on_the_next_save(postgres, monkeypatch, around)
    invoice = postgres.app.create_invoice(tenant.account_id, replace(new, id=uuid4()), META)
    monkeypatch.undo()
    return tenant, new, before, invoice, done


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_save_goes_on_once_the_server_forgets_its_prepared_statements(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def forgetting(conn: Any) -> Iterator[Any]:
        yield _ForgettingFirst(conn)

    tenant, new, before, invoice, done = _second_invoice(
        postgres, settings, monkeypatch, forgetting
    )
    assert done == [1]
    # The counter's number and the invoice, once each: events, links and one feed row.
    assert _counts(settings) == (before[0] + 2, before[1] + 2, before[2] + 1)
    assert invoice.number.endswith("002")
    assert postgres.app.get_invoice(tenant.account_id, invoice.id).number == invoice.number
    for _ in range(6):  # the connection that forgot them, whenever it comes round again
        postgres.app.create_invoice(tenant.account_id, replace(new, id=uuid4()), META)
    assert _counts(settings)[0] == before[0] + 2 + 12


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_statement_that_cannot_be_prepared_is_sent_as_it_is(settings: Settings) -> None:
    statements = PreparedStatements()
    search_path = 'SET LOCAL search_path TO "public"'
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        # PostgreSQL cannot tell the type of a bare parameter: no name, both times.
        untyped = [("SELECT %s IS NULL", ("x",))]
        assert statements.names(conn, untyped, search_path) == [None]
        assert statements.names(conn, untyped, search_path) == [None]
        typed = [("SELECT %s::int + 1", (1,)), ("COMMIT", ())]
        name, none = statements.names(conn, typed, search_path)
        assert none is None and name is not None
        assert conn.execute(f"EXECUTE {name}(41)").fetchone() == (42,)
        assert _prepared_on(conn) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_save_goes_on_on_a_connection_that_psycopg_rolled_back(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg deallocates every prepared statement of a connection it rolls back once it
    has prepared one of its own there: the save goes again on that same connection."""
    lost: list[int] = []

    @contextmanager
    def rolled_back(conn: Any) -> Iterator[Any]:
        conn.execute("SELECT 1", prepare=True)  # psycopg's own prepared statement
        conn.execute("BEGIN")
        conn.rollback()  # psycopg: DEALLOCATE ALL
        lost.append(_prepared_on(conn))
        yield conn

    monkeypatch.setattr("infrastructure.eventstore.ROLLED_BACK_ATTEMPTS", 1)  # no other
    tenant, _, before, invoice, _ = _second_invoice(postgres, settings, monkeypatch, rolled_back)
    assert lost == [0]  # it held none of them when the script went
    assert _counts(settings) == (before[0] + 2, before[1] + 2, before[2] + 1)
    assert postgres.app.get_invoice(tenant.account_id, invoice.id).number == invoice.number
