"""Sessions the database ended while they sat idle in a pool (a restart, a failover,
`pg_terminate_backend`) are replaced before use: no command fails on one."""

from __future__ import annotations

import select
import time
from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.idle_drops import dropped, live
from infrastructure.settings import Settings
from tests.support import META, end_sessions, make_tenant


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_pool_hands_out_no_session_the_server_ended(settings: Settings) -> None:
    conninfo = settings.postgres.conninfo()
    with ConnectionPool(conninfo, min_size=3, max_size=3, kwargs={"autocommit": True}) as pool:
        pool.wait()
        held = [pool.getconn() for _ in range(3)]
        pids = [conn.info.backend_pid for conn in held]
        assert not any(dropped(conn) for conn in held)
        for conn in held:
            pool.putconn(conn)
        assert end_sessions(conninfo, pids) == 3
        with pool.connection() as conn:  # what the pool gives, unchecked, is dead
            assert dropped(conn)
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        for _ in range(3):  # each checkout finds a live session (new ones as needed)
            with live(pool) as conn:
                assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] not in pids  # type: ignore[index]
        pool.wait(timeout=10)
        assert pool.get_stats()["pool_size"] == 3  # each dead one was replaced


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_commands_and_reads_go_on_after_the_database_ended_every_session(
    postgres: Services, settings: Settings
) -> None:
    app, tenant = postgres.app, make_tenant(postgres)
    client = app.create_client(tenant.account_id, {"name": "Before"}, META)
    items = (LineItem("Work", Decimal("1"), Decimal("100.00")),)

    def invoice() -> NewInvoice:
        return NewInvoice(client_id=client.id, line_items=items, status="SENT")

    first = app.create_invoice(tenant.account_id, invoice(), META)  # every pool in use
    assert end_sessions(settings.postgres.conninfo()) >= 3
    # A save (the event store's pool), the numbering lock (the lock pool), row reads
    # (single statements) and a transaction, each on a session ended while idle.
    second = app.create_invoice(tenant.account_id, invoice(), META)
    paid, _ = app.record_payment(
        tenant.account_id, first.id, Decimal("40.00"), None, None, None, META
    )
    with postgres.db.transaction() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    assert paid.totals.amount_paid == Decimal("40.00")
    assert [first.number, second.number] == ["SI-001", "SI-002"]  # gapless, once each
    assert app.get_invoice(tenant.account_id, second.id).number == "SI-002"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_message_that_does_not_end_the_session_keeps_the_connection(
    settings: Settings,
) -> None:
    conninfo = settings.postgres.conninfo()
    with (
        psycopg.connect(conninfo, autocommit=True) as conn,
        psycopg.connect(conninfo, autocommit=True) as other,
    ):
        conn.execute("LISTEN idle_drops")
        other.execute("NOTIFY idle_drops")
        deadline = time.monotonic() + 5
        while not select.select([conn.pgconn.socket], [], [], 0)[0]:  # it has arrived
            assert time.monotonic() < deadline, "the notification never came"
            time.sleep(0.01)
        assert not dropped(conn)
        assert conn.execute("SELECT 1").fetchone() == (1,)
        end_sessions(conninfo, [conn.info.backend_pid])
        assert dropped(conn)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_sessions_the_servers_idle_timeout_ended_are_not_handed_out(settings: Settings) -> None:
    """`idle_session_timeout` (or a proxy's) ends pooled sessions the same way."""
    conninfo = settings.postgres.conninfo("-c idle_session_timeout=200")
    with ConnectionPool(conninfo, min_size=2, max_size=2, kwargs={"autocommit": True}) as pool:
        pool.wait()
        time.sleep(0.6)  # both sessions idle past the timeout
        for _ in range(3):
            with live(pool) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
