"""An event that the following views cannot apply no longer stops them: it is set aside
(projection_failures), the events after it reach the audit log and the outbox of every
account, and a rebuild applies it once the fault is gone. An unreachable database sets
nothing aside, and a fault that fails every event stops the views after a few."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from api import cli
from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections import failures, projector
from projections.aggregate_view import name_of
from projections.audit_log import AuditFilter
from projections.audit_view import AuditView
from tests.support import META, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(10)),)


def invoices(services: Services, count: int) -> tuple[UUID, list[UUID]]:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "C"}, META)
    made = [
        services.app.create_invoice(
            tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES), META
        ).id
        for _ in range(count)
    ]
    return tenant.account_id, made


def history(services: Services, account_id: UUID, invoice_id: UUID) -> list[str]:
    """The invoice's audit entries' actions, as GET /invoices/{id}/history lists them."""
    where = AuditFilter(entity_id=str(invoice_id))
    page = services.queries.audit_log(account_id, where, 50, None)
    return [entry["action"] for entry in page.items]


def audit_view(services: Services) -> AuditView:
    return next(v for v in services.projector.followers if isinstance(v, AuditView))


def fail_on(monkeypatch: pytest.MonkeyPatch, view: Any, bad: set[UUID], error: Exception) -> None:
    """`view` raises `error` on any batch holding an event of an aggregate in `bad`."""
    real = view.apply_batch

    def apply_batch(cur: Any, batch: Any, after: int, prepared: Any) -> None:
        if any(e.originator_id in bad and n.id > after for n, e in batch):
            raise error
        real(cur, batch, after, prepared)

    monkeypatch.setattr(view, "apply_batch", apply_batch)


def test_an_event_no_view_can_apply_is_set_aside_and_the_rest_go_on(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, (first, poisoned, last) = invoices(services, 3)
    fail_on(monkeypatch, audit_view(services), {poisoned}, ValueError("unexpected data"))
    services.projector.catch_up()  # does not raise
    assert services.projector.lag() == 0
    assert history(services, account_id, first) == history(services, account_id, last)
    assert history(services, account_id, last) != []
    assert history(services, account_id, poisoned) == []
    (failure,) = services.projector.failures()
    assert "unexpected data" in failure.error
    # Set aside by the view that failed it alone: the outbox and the feed still have it.
    assert "AuditView" in failure.views
    assert not {"OutboxView", "EventsFeed"} & set(failure.views)
    # Later events go on reaching the views.
    services.app.update_invoice(account_id, last, {"notes": "later"}, META)
    services.projector.catch_up()
    assert len(history(services, account_id, last)) == 2
    # Fixed, a rebuild applies the event set aside, and forgets it.
    monkeypatch.undo()
    services.projector.rebuild()
    assert history(services, account_id, poisoned) == history(services, account_id, first)
    assert services.projector.failures() == []


def test_an_unreachable_database_sets_nothing_aside(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, (invoice,) = invoices(services, 1)
    down = OperationalError("could not connect to server")
    fail_on(monkeypatch, audit_view(services), {invoice}, down)
    with pytest.raises(OperationalError):
        services.projector.catch_up()
    assert services.projector.failures() == []
    assert services.projector.lag() > 0
    monkeypatch.undo()
    services.projector.catch_up()
    assert history(services, account_id, invoice) != []


def test_a_fault_that_fails_every_event_stops_the_views_after_a_few(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failures, "LIMIT", 2)
    account_id, made = invoices(services, 4)
    fail_on(monkeypatch, audit_view(services), set(made), RuntimeError("no such table"))
    with pytest.raises(RuntimeError):
        services.projector.catch_up()
    assert len(services.projector.failures()) == 2
    assert services.projector.lag() > 0  # stopped at the third, not passed over it
    with pytest.raises(RuntimeError):  # an audit read catches up first: still stopped
        history(services, account_id, made[3])
    assert len(services.projector.failures()) == 2


def test_a_fault_that_no_event_explains_is_raised_not_retried_for_ever(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoices(services, 1)
    view = audit_view(services)

    def broken(*args: Any) -> None:
        raise RuntimeError("broken on every batch, even an empty one")

    monkeypatch.setattr(view, "apply_batch", broken)
    outcome: list[BaseException | None] = []

    def catch_up() -> None:
        try:
            services.projector.catch_up()
            outcome.append(None)
        except RuntimeError as error:
            outcome.append(error)

    worker = threading.Thread(target=catch_up, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "catch_up kept retrying a fault no event explains"
    assert isinstance(outcome[0], RuntimeError)


def test_an_inline_view_that_cannot_fold_an_event_stops_and_sets_nothing_aside(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its rows hold every event of their aggregate, which later events build on."""
    invoices(services, 1)
    inline = services.projector.inline[0]
    with services.db.transaction() as cur:
        cur.execute(
            "UPDATE projection_tracking SET position = 0 WHERE name = ?", (name_of(inline),)
        )

    def fold_fails(*args: Any) -> None:
        raise ValueError("cannot fold")

    monkeypatch.setattr(projector, "fold_batch", fold_fails)
    with pytest.raises(ValueError):
        services.projector._follow([inline])
    assert services.projector.failures() == []


def cli_on(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point `experi`'s commands, run in this process, at the test's store."""
    monkeypatch.setenv("EXPERI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("EXPERI_BACKGROUND_JOBS", "0")
    if not settings.embedded:
        monkeypatch.setenv("EXPERI_DATABASE_URL", settings.database_url)


def test_the_status_command_reports_how_far_the_views_lag_and_leaves_them_there(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`behind` is a measure of a stalled jobs process: the command only looks."""
    invoices(services, 3)  # no jobs here: the following views have not caught up
    behind, position = services.projector.lag(), services.projector.position()
    assert behind > 0
    cli_on(settings, monkeypatch)
    capsys.readouterr()
    assert cli.main(["projections", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["behind"], status["position"]) == (behind, position)
    assert (services.projector.lag(), services.projector.position()) == (behind, position)
    services.projector.catch_up()
    assert cli.main(["projections", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["behind"] == 0


def test_the_status_command_names_each_event_set_aside_until_a_rebuild(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`experi projections status` exits 1 while an event is set aside, for monitoring."""
    _, (_, poisoned, _) = invoices(services, 3)
    with monkeypatch.context() as patched:
        fail_on(patched, audit_view(services), {poisoned}, ValueError("unexpected data"))
        services.projector.catch_up()
    (failure,) = services.projector.failures()
    cli_on(settings, monkeypatch)
    capsys.readouterr()
    assert cli.main(["projections", "status", "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["behind"] == 0 and status["position"] == services.projector.position()
    assert status["setAside"] == [
        {
            "event": failure.seq,
            "views": list(failure.views),
            "error": failure.error,
            "failedAt": failure.failed_at,
        }
    ]
    assert cli.main(["projections", "status"]) == 1
    text = capsys.readouterr().out
    assert "Events set aside: 1" in text
    assert f"event {failure.seq} " in text and "unexpected data" in text
    services.projector.rebuild()  # the fault fixed: the event is applied and forgotten
    assert cli.main(["projections", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["setAside"] == []
