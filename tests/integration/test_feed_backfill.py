"""A store written before the events feed and the stored documents existed: opening it
fills both from the events, identical to what inline writing produces."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections import audit_batch, projector
from projections.events_feed import EventsFeed
from tests.integration.test_projections import populate
from tests.support import FakeClock


def feed_rows(services: Services) -> list[tuple[Any, ...]]:
    with services.db.transaction() as cur:
        cur.execute("SELECT * FROM view_events ORDER BY seq")
        return [tuple(row) for row in cur.fetchall()]


def documents(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with services.db.transaction() as cur:
        for table in ("view_clients", "view_invoices", "view_recurring"):
            cur.execute(f"SELECT id, document FROM {table} ORDER BY id")
            found[table] = [(r[0], bytes(r[1])) for r in cur.fetchall()]
    return found


def outstanding(services: Services) -> list[tuple[Any, ...]]:
    """Each account's outstanding summary, as the API reports it."""
    with services.db.transaction() as cur:
        cur.execute("SELECT DISTINCT account_id FROM view_invoices ORDER BY account_id")
        accounts = [UUID(r[0]) for r in cur.fetchall()]
    today = services.app.clock.now().date()
    return [services.queries.list_outstanding(a, 20, None, today)[1:] for a in accounts]


def test_an_older_store_gets_its_feed_and_documents_when_opened(
    services: Services, settings: Settings
) -> None:
    populate(services)
    feed, docs, owed = feed_rows(services), documents(services), outstanding(services)
    assert len(feed) == 2 * 9  # per account: client created and updated, 5 invoices, paid, void
    # As an older release left it: no feed, no outstanding totals, and invoice rows
    # without documents.
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_events")
        cur.execute("DROP TABLE view_outstanding")
        cur.execute("DELETE FROM projection_tracking WHERE name = 'EventsFeed'")
        cur.execute("DROP TABLE view_invoices")
        cur.execute(
            "CREATE TABLE view_invoices (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
            "version INTEGER NOT NULL, state BLOB NOT NULL, account_id TEXT NOT NULL)"
            if services.db.dialect == "sqlite"
            else "CREATE TABLE view_invoices (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
            "version INTEGER NOT NULL, state BYTEA NOT NULL, account_id TEXT NOT NULL)"
        )
        cur.execute(
            "UPDATE projection_tracking SET name = 'InvoicesView' WHERE name = 'InvoicesView.v4'"
        )
    services.close()
    reopened = build_services(settings, FakeClock())
    try:
        reopened.projector.catch_up()
        assert documents(reopened) == docs
        assert feed_rows(reopened) == feed
        assert outstanding(reopened) == owed and len(owed) == 2 and owed[0][0] > 0
    finally:
        reopened.close()


@pytest.mark.parametrize("missing", ["none", "the later half", "every third"])
def test_a_feed_counting_its_batches_writes_exactly_the_rows_it_misses(
    services: Services, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of COUNT_FIRST events or more is counted before the feed's rows are
    read: as many rows as shown events means none is missing, and is not read; one short
    must still read them and write what is missing."""
    populate(services)
    feed = feed_rows(services)
    seqs = [row[0] for row in feed]
    gone = {"none": [], "the later half": seqs[len(seqs) // 2 :], "every third": seqs[::3]}
    with services.db.transaction() as cur:
        for seq in gone[missing]:
            cur.execute("DELETE FROM view_events WHERE seq = ?", (seq,))
        cur.execute("UPDATE projection_tracking SET position = 0 WHERE name = 'EventsFeed'")
    monkeypatch.setattr(projector, "BATCH", 7)
    monkeypatch.setattr(audit_batch, "COUNT_FIRST", 1)  # every batch, the last one too
    statements: list[str] = []
    prepare = EventsFeed.prepare

    def spied(self: EventsFeed, cur: Any, batch: Any) -> set[int]:
        execute = cur.execute

        def recorded(sql: str, params: Any = ()) -> None:
            statements.append(sql)
            execute(sql, params)

        cur.execute = recorded
        try:
            return prepare(self, cur, batch)
        finally:
            cur.execute = execute

    monkeypatch.setattr(EventsFeed, "prepare", spied)
    services.projector.catch_up()
    assert feed_rows(services) == feed
    reads = [s for s in statements if s.startswith("SELECT seq")]
    assert statements and (reads == [] if missing == "none" else reads)
