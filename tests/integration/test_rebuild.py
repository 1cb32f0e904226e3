"""`experi projections rebuild`: identical views, with the audit views rebuilt in a
process of their own on PostgreSQL, and resumable after an interruption or a failure."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import pytest

from api.documents import ApiDocuments
from infrastructure.bootstrap import Services
from infrastructure.rebuild_helpers import DocumentsByName, HelperFailed, in_processes
from infrastructure.settings import Settings
from projections import projector as projector_module
from projections.aggregate_view import name_of
from projections.progress import Progress
from projections.projector import group_of
from tests.integration.test_projections import populate

TABLES = (
    "view_clients",
    "view_invoices",
    "view_accounts",
    "view_counters",
    "view_audit",
    "audit_entities",
    "audit_chain",
    "audit_account_chain",
    "outbox",
    "view_events",
)


def contents(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with services.db.transaction() as cur:
        for table in TABLES:
            cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
            out[table] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cur.fetchall()
            ]
    return out


def positions(services: Services) -> dict[str, int]:
    with services.db.transaction() as cur:
        cur.execute("SELECT name, position FROM projection_tracking")
        return {str(name): int(position) for name, position in cur.fetchall()}


class Interrupt(Exception):
    pass


class StopsAfter(Progress):
    """A progress bar that interrupts the rebuild after `batches` batches."""

    def __init__(self, batches: int) -> None:
        super().__init__(io.StringIO())
        self.left = batches

    def update(self, position: int) -> None:
        super().update(position)
        self.left -= 1
        if self.left < 0:
            raise Interrupt


def test_an_interrupted_rebuild_resumes_where_it_stopped(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(services)
    services.projector.catch_up()  # the audit views follow the log
    before = contents(services)
    filled = ("view_invoices", "view_counters", "view_audit", "audit_account_chain")
    assert all(before[t] for t in filled)
    monkeypatch.setattr(projector_module, "BATCH", 7)  # many batches from a small store
    with pytest.raises(Interrupt):
        services.projector.rebuild(StopsAfter(2))
    stopped = positions(services)
    latest = services.app.recorder.max_notification_id() or 0
    assert projector_module.REBUILDING in stopped
    assert 0 < min(stopped[name_of(v)] for v in services.projector.views) < latest
    # The views hold only part of the store meanwhile: the rebuild is not finished.
    assert contents(services)["view_invoices"] != before["view_invoices"]

    bar = Progress(io.StringIO())
    services.projector.rebuild(bar)
    assert "resuming after event" in bar.stream.getvalue()  # type: ignore[attr-defined]
    assert contents(services) == before
    assert projector_module.REBUILDING not in positions(services)


@pytest.fixture
def populated(services: Services, settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """A PostgreSQL store with a few accounts' events; its views' contents."""
    if settings.dialect != "postgresql":
        pytest.skip("the audit views are rebuilt in a process of their own on PostgreSQL")
    populate(services)
    services.projector.catch_up()  # the audit views follow the log
    return contents(services)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_helper_process_rebuilds_the_audit_views_alongside(
    services: Services, settings: Settings, populated: dict[str, Any]
) -> None:
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_audit")
        cur.execute("DELETE FROM audit_account_chain")  # the helper chains them again
    started: list[str] = []
    elsewhere = in_processes(settings, ApiDocuments)

    def start(group: str) -> Any:
        started.append(group)
        return elsewhere(group)

    services.projector.rebuild(Progress(io.StringIO()), elsewhere=start)
    assert started == ["audit"]
    assert contents(services) == populated


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_failed_helper_leaves_a_rebuild_that_resumes(
    services: Services, settings: Settings, populated: dict[str, Any]
) -> None:
    # The helper's store cannot be opened: it fails as it starts, the rows go on.
    parts = urlsplit(settings.database_url)._replace(path="/experi_no_such_database")
    missing = replace(settings, database_url=urlunsplit(parts))
    with pytest.raises(HelperFailed, match="audit views failed"):
        services.projector.rebuild(
            Progress(io.StringIO()), elsewhere=in_processes(missing, ApiDocuments)
        )
    marks = positions(services)
    latest = services.app.recorder.max_notification_id() or 0
    assert projector_module.REBUILDING in marks
    views = services.projector.views
    assert all(marks[name_of(v)] == latest for v in views if group_of(v) == "rows")
    assert all(marks[name_of(v)] == 0 for v in views if group_of(v) == "audit")
    assert contents(services)["view_audit"] == []  # emptied, not rebuilt

    services.projector.rebuild(
        Progress(io.StringIO()), elsewhere=in_processes(settings, ApiDocuments)
    )
    assert contents(services) == populated
    assert projector_module.REBUILDING not in positions(services)


def test_a_helper_makes_its_documents_only_when_one_is_shaped(services: Services) -> None:
    """A rebuild's helper is given the documents by name: imported and made at the
    first shape asked for, and shaping exactly what the named class shapes."""
    populate(services)
    app, named = services.app, DocumentsByName("api.documents:ApiDocuments")
    with services.db.transaction() as cur:
        cur.execute("SELECT id FROM view_invoices ORDER BY seq")
        invoice_ids = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT id FROM view_clients")
        client_id = cur.fetchall()[0][0]
    assert named._documents is None  # nothing shaped yet: nothing made
    made = ApiDocuments()
    client = app.repository.get(UUID(str(client_id)))
    assert named.client(client) == made.client(client)
    assert isinstance(named._documents, ApiDocuments)
    for ident in invoice_ids:
        invoice = app.repository.get(UUID(str(ident)))
        assert named.invoice(invoice) == made.invoice(invoice)
        assert named.past_invoice(invoice) == made.past_invoice(invoice)
        assert named.invoice_without(invoice, 0) == made.invoice_without(invoice, 0)
