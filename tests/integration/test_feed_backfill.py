"""A store written before the events feed and the stored documents existed: opening it
fills both from the events, identical to what inline writing produces."""

from __future__ import annotations

from typing import Any

from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
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


def test_an_older_store_gets_its_feed_and_documents_when_opened(
    services: Services, settings: Settings
) -> None:
    populate(services)
    feed, docs = feed_rows(services), documents(services)
    assert len(feed) == 2 * 9  # per account: client created and updated, 5 invoices, paid, void
    # As the previous release left it: no feed, and invoice rows without documents.
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM view_events")
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
            "UPDATE projection_tracking SET name = 'InvoicesView' WHERE name = 'InvoicesView.v2'"
        )
    services.close()
    reopened = build_services(settings, FakeClock())
    try:
        reopened.projector.catch_up()
        assert documents(reopened) == docs
        assert feed_rows(reopened) == feed
    finally:
        reopened.close()
