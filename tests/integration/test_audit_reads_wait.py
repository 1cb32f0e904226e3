"""Audit reads (the log, its signed digest) list every change that has had a response,
and where a worker follows the event log they wait for it instead of applying events
themselves: no lock shared by every process, and no work that grows with what other
accounts wrote, on the request path. Where that worker does not come, the read catches
up itself (as every read did before), and says so in the log."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from api.audit import signed_head
from api.services import build_services
from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter
from projections.projector import Following
from tests.support import META, make_tenant


class Applied:
    """The names of the threads that apply batches of events to the views."""

    def __init__(self, services: Services) -> None:
        self.by: list[str] = []
        projector = services.projector
        real = projector._apply_batch

        def apply(*args: Any, **kwargs: Any) -> Any:
            self.by.append(threading.current_thread().name)
            return real(*args, **kwargs)

        projector._apply_batch = apply  # type: ignore[method-assign]


WORKERS = {"experi-outbox", "experi-follower"}  # the threads that catch the views up


def hold(services: Services, gate: threading.Event) -> None:
    """Hold the workers that catch the views up (the outbox's passes and the follower's)
    at the start of each pass until `gate` is set."""
    outbox, follower = services.outbox.run_once, services.follower.run_once
    services.outbox.run_once = lambda now=None: gate.wait() and outbox(now)  # type: ignore[method-assign]
    services.follower.run_once = lambda: gate.wait() and follower()  # type: ignore[method-assign]


@pytest.fixture
def with_jobs(settings: Settings) -> Iterator[tuple[Services, threading.Event]]:
    """Services whose background jobs run in this process, held until the event is set;
    a read waits up to 30 s for them (ample on a loaded machine)."""
    services = build_services(dataclasses.replace(settings, background_jobs=True))
    gate = threading.Event()
    hold(services, gate)
    services.start_background_jobs()
    following = services.projector.following
    assert following is not None and following.nudge is not None
    services.projector.following = dataclasses.replace(following, wait=30)
    try:
        yield services, gate
    finally:
        gate.set()
        services.close()


def invoice_of(services: Services, account_id: Any) -> None:
    app = services.app
    client = app.create_client(account_id, {"name": "Zed"}, META)
    items = (LineItem("Work", Decimal(1), Decimal(5)),)
    app.create_invoice(account_id, NewInvoice(client_id=client.id, line_items=items), META)


def actions(services: Services, account_id: Any) -> list[str]:
    page = services.queries.audit_log(account_id, AuditFilter(), 100, None)
    return [entry["action"] for entry in page.items]


def test_an_audit_read_waits_for_the_worker_and_applies_nothing_itself(
    with_jobs: tuple[Services, threading.Event],
) -> None:
    services, gate = with_jobs
    tenant = make_tenant(services)
    invoice_of(services, tenant.account_id)
    assert services.projector.lag() > 0  # the worker is held: the views are behind
    applied = Applied(services)
    read: list[list[str]] = []
    reader = threading.Thread(
        target=lambda: read.append(actions(services, tenant.account_id)), name="request"
    )
    reader.start()
    reader.join(timeout=0.5)
    assert reader.is_alive()  # it waits for the worker; it does not catch up itself
    gate.set()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert read == [["account.created", "api_key.created", "client.created", "invoice.created"]]
    assert applied.by and set(applied.by) <= WORKERS
    invoice_of(services, tenant.account_id)  # the digest waits alike, and covers it
    head = signed_head(services, str(tenant.account_id))
    assert head.length == 6
    assert "request" not in applied.by and threading.current_thread().name not in applied.by


def test_an_audit_read_catches_up_itself_when_the_worker_does_not_come(
    with_jobs: tuple[Services, threading.Event], caplog: pytest.LogCaptureFixture
) -> None:
    services, _ = with_jobs  # the workers stay held
    following = services.projector.following
    assert following is not None
    services.projector.following = dataclasses.replace(following, wait=0.2)
    tenant = make_tenant(services)
    invoice_of(services, tenant.account_id)
    applied = Applied(services)
    with caplog.at_level(logging.WARNING, logger="experi.projections"):
        listed = actions(services, tenant.account_id)
    assert listed[-1] == "invoice.created"
    assert applied.by and set(applied.by) == {threading.current_thread().name}
    assert "this read catches them up itself" in caplog.text
    # Every later read while the worker stays away catches up alike, but is not logged
    # again until a minute has passed; that line counts the reads held back.
    for _ in range(3):
        invoice_of(services, tenant.account_id)
        with caplog.at_level(logging.WARNING, logger="experi.projections"):
            assert actions(services, tenant.account_id)[-1] == "invoice.created"
    late = [r.getMessage() for r in caplog.records if "catches them up itself" in r.getMessage()]
    assert len(late) == 1 and "(0 more reads did" in late[0]
    services.projector._late_worker._next = 0.0  # a minute later
    invoice_of(services, tenant.account_id)
    with caplog.at_level(logging.WARNING, logger="experi.projections"):
        actions(services, tenant.account_id)
    late = [r.getMessage() for r in caplog.records if "catches them up itself" in r.getMessage()]
    assert len(late) == 2 and "(3 more reads did since the last" in late[1]


def test_without_a_worker_an_audit_read_catches_up_at_once(services: Services) -> None:
    """The tests drive the jobs themselves (EXPERI_BACKGROUND_JOBS=0): nothing follows
    the log, so a read applies what it needs, without waiting."""
    assert services.projector.following is None
    tenant = make_tenant(services)
    invoice_of(services, tenant.account_id)
    applied = Applied(services)
    assert actions(services, tenant.account_id)[-1] == "invoice.created"
    assert set(applied.by) == {threading.current_thread().name}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_worker_beside_a_jobs_process_reads_what_that_process_applied(
    settings: Settings,
) -> None:
    """`experi serve --workers N` on PostgreSQL: a worker's audit read asks the jobs
    process (a notification its commit listener hears) to catch the views up, and waits
    for it. The jobs process's outbox passes are held: only that request answers it."""
    worker = build_services(
        dataclasses.replace(settings, background_jobs=False, jobs_elsewhere=True)
    )
    jobs = build_services(dataclasses.replace(settings, background_jobs=True))
    listener = jobs.commit_listener()
    held = threading.Event()
    outbox = jobs.outbox.run_once
    jobs.outbox.run_once = lambda now=None: held.wait() and outbox(now)  # type: ignore[method-assign]
    try:
        jobs.start_background_jobs()
        listener.start()
        assert listener.listening(timeout=10)
        following = worker.projector.following
        assert following is not None and following.nudge is not None
        worker.projector.following = Following(following.nudge, wait=30)
        applied_here, applied_there = Applied(worker), Applied(jobs)
        tenant = make_tenant(worker)
        invoice_of(worker, tenant.account_id)
        assert actions(worker, tenant.account_id)[-1] == "invoice.created"
        assert signed_head(worker, str(tenant.account_id)).length == 4
        assert applied_here.by == []  # every event was applied by the jobs process,
        assert applied_there.by and set(applied_there.by) == {"experi-follower"}  # asked
    finally:
        held.set()
        listener.stop()
        jobs.close()
        worker.close()
