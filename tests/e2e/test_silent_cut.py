"""A process cut off from PostgreSQL without a word (a partition, a NAT or a proxy that
drops its state) while it holds an account's numbering lock: the database ends its
session within about a minute and the account's invoices are numbered again, and the
cut-off process's next request on that session fails within about a minute too.
Before, the lock stayed held for two hours (the server's default keepalives) and the
request waited for the kernel's retransmissions (about 15 minutes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import pytest

from api.services import build_services
from application.invoices import NewInvoice
from domain.invoice import Invoice
from domain.values import LineItem
from infrastructure.settings import Settings
from tests import support
from tests.e2e.faults import Namespace, namespace, private_cluster

ROOT = Path(__file__).resolve().parents[2]

# Inside the namespace: take the account's numbering lock as a command does, say so,
# and once told the link is cut, read on the session that holds it.
HOLDER = textwrap.dedent(
    """
    import os, sys, time, uuid
    import psycopg
    from domain.numbering import counter_id
    from infrastructure.held_sessions import held_by
    from infrastructure.settings import Settings
    from infrastructure.sql import PostgresDatabase

    url, account = sys.argv[1], uuid.UUID(sys.argv[2])
    db = PostgresDatabase(Settings.from_env({"EXPERI_DATABASE_URL": url}).postgres)
    with db.hold(counter_id(account)):
        held_by(db).ensure_locked()
        print("held", flush=True)
        sys.stdin.readline()
        started = time.monotonic()
        try:
            db.rows("SELECT 1")
            print("answered", flush=True)
        except psycopg.OperationalError:
            print(f"failed after {time.monotonic() - started:.1f}", flush=True)
        os._exit(0)
    """
)


def test_a_silently_cut_session_frees_its_numbering_lock_and_fails_its_request(
    tmp_path: Path,
) -> None:
    with namespace() as net:
        if net is None:
            unable("a network namespace (root and iproute2)")
        with private_cluster(reachable_from=net) as cluster:
            if cluster is None:
                unable("a private PostgreSQL cluster")
            run_cut(net, cluster.url, cluster.port, tmp_path)


def unable(what: str) -> NoReturn:
    if support.REQUIRE_POSTGRES:  # as in CI
        pytest.fail(f"{what} is required here but cannot be made")
    pytest.skip(f"cannot make {what} here")


def run_cut(net: Namespace, url: str, port: int, tmp_path: Path) -> None:
    settings = Settings.from_env({"EXPERI_DATA_DIR": str(tmp_path), "EXPERI_DATABASE_URL": url})
    services = build_services(settings)
    try:
        tenant = support.make_tenant(services)
        app = services.app
        client = app.create_client(tenant.account_id, {"name": "Cut"}, support.META)
        items = (LineItem("Work", Decimal("1"), Decimal("100.00")),)

        def invoice() -> NewInvoice:
            return NewInvoice(client_id=client.id, line_items=items, status="SENT")

        first = app.create_invoice(tenant.account_id, invoice(), support.META)

        far = f"postgresql://postgres@{net.host_ip}:{port}/postgres"
        holder = subprocess.Popen(
            net.command(sys.executable, "-c", HOLDER, far, str(tenant.account_id)),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            created: list[object] = []
            writer = threading.Thread(
                target=lambda: created.append(
                    app.create_invoice(tenant.account_id, invoice(), support.META)
                ),
                daemon=True,
            )
            writer.start()
            writer.join(timeout=2)
            assert writer.is_alive()  # the account's next invoice waits for the lock

            net.cut()
            cut_at = time.monotonic()
            holder.stdin.write("go\n")
            holder.stdin.flush()
            writer.join(timeout=150)
            freed_after = time.monotonic() - cut_at
            out, _ = holder.communicate(timeout=150)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
    finally:
        services.close()
    assert not writer.is_alive(), "the numbering lock was still held 150 s after the cut"
    assert freed_after < 100, freed_after  # server keepalives: 30 s idle, 3 probes 10 s apart
    assert len(created) == 1 and isinstance(created[0], Invoice)
    assert (first.number, created[0].number) == ("SI-001", "SI-002")  # gapless
    failed = out.strip().splitlines()[-1]
    assert failed.startswith("failed after "), out
    assert float(failed.removeprefix("failed after ")) < 100  # tcp_user_timeout: 60 s
    print(f"lock freed {freed_after:.1f} s after the cut; the cut-off read {failed} s")
