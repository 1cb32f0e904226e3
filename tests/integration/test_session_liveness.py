"""Every session the server opens to PostgreSQL finds a silent cut within about a
minute (a partition, a NAT or a proxy dropping its state), at both ends: requests fail
instead of waiting for the kernel's retransmissions, and the server ends the session
and frees the locks it held (an account's numbering lock) instead of keeping them for
two hours. `e2e/test_silent_cut.py` makes such a cut; this checks what makes one
found on every session: the options on each socket, and the server's settings."""

from __future__ import annotations

import os
import socket

import pytest
from litestar.testing import TestClient
from psycopg.rows import tuple_row

from api.app import create_app
from api.services import build_services
from infrastructure.settings import Settings
from infrastructure.sql import PostgresDatabase
from tests.api.helpers import create_client, example_invoice
from tests.support import make_tenant

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def database_sockets(port: int) -> dict[int, socket.socket]:
    """This process's TCP sockets connected to the database's port, by descriptor (each a
    duplicate: closing it leaves the session alone)."""
    found = {}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            copy = os.dup(fd)
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        try:
            sock = socket.socket(fileno=copy)
        except OSError:
            os.close(copy)
            continue  # not a socket
        try:
            connected = sock.family in (socket.AF_INET, socket.AF_INET6) and (
                sock.getpeername()[1] == port
            )
        except OSError:
            connected = False
        if connected:
            found[fd] = sock
        else:
            sock.close()
    return found


def socket_liveness(sock: socket.socket) -> tuple[int, ...]:
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
    )


def test_every_session_of_the_server_keeps_alive_and_bounds_unacknowledged_data(
    settings: Settings,
) -> None:
    port = settings.postgres.port
    before = database_sockets(port)
    for sock in before.values():
        sock.close()
    services = build_services(settings)
    assert isinstance(services.db, PostgresDatabase)
    listener = services.commit_listener()
    listener.start()
    try:
        tenant = make_tenant(services)
        with TestClient(create_app(settings, services=services)) as http:
            # A save, the numbering lock, reads through the async pool and the others.
            client = create_client(http, tenant)
            made = http.post(
                "/api/v1/invoices", json=example_invoice(client["id"]), headers=tenant.headers
            )
            assert made.status_code == 201, made.text
            read = http.get(f"/api/v1/invoices/{made.json()['id']}", headers=tenant.headers)
            assert read.status_code == 200, read.text
            assert listener.listening(timeout=10)
            opened = {fd: s for fd, s in database_sockets(port).items() if fd not in before}
            try:
                client_side = [socket_liveness(sock) for sock in opened.values()]
            finally:
                for sock in opened.values():
                    sock.close()
            server_side = {
                name: show_liveness(pool)
                for name, pool in (
                    ("transactions", services.db.pool),
                    ("statements", services.db.autocommit_pool),
                    ("locks", services.db.lock_pool),
                    ("event store", services.app.recorder.datastore.pool),  # type: ignore[attr-defined]
                )
            }
    finally:
        listener.stop()
        services.close()
    # At least one session of each pool (transactions, statements, locks, async reads,
    # the event store's) and the listener's.
    assert len(client_side) >= 6
    # Probes after 30 s idle, every 10 s, 3 unanswered end it; data unacknowledged for
    # 60 s ends it (milliseconds).
    assert set(client_side) == {(1, 30, 10, 3, 60_000)}
    assert server_side == dict.fromkeys(server_side, ("30", "10", "3", "60000"))


def show_liveness(pool: object) -> tuple[str, ...]:
    with pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:  # type: ignore[attr-defined]
        return tuple(
            cursor.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "tcp_keepalives_idle",
                "tcp_keepalives_interval",
                "tcp_keepalives_count",
                "tcp_user_timeout",
            )
        )
