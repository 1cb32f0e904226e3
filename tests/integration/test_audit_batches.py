"""The audit views applied a batch at a time write what one event at a time would."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from application.invoices import NewInvoice
from domain.values import LineItem
from infrastructure.bootstrap import Services
from projections import audit_batch, audit_view, projector
from projections.audit_batch import seq_range
from projections.audit_view import entry_data, jsonable, redact
from tests.support import META, make_tenant

LINES = (LineItem("Work", Decimal(3), Decimal("33.33")),)
AUDIT_TABLES = ("view_audit", "audit_entities", "audit_chain", "audit_account_chain")


def audit_contents(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    contents = {}
    with services.db.transaction() as cur:
        for table in AUDIT_TABLES:
            cur.execute(f"SELECT * FROM {table} ORDER BY 1")
            contents[table] = [tuple(row) for row in cur.fetchall()]
    return contents


def populate(services: Services) -> None:
    app = services.app
    for name in ("Acme Ltd", "Other Co", "Third plc"):
        tenant = make_tenant(services, name=name)
        app.create_key(tenant.account_id, "second", ["all"], META)  # holds a key hash
        client = app.create_client(tenant.account_id, {"name": f"{name} client"}, META)
        for i in range(4):
            invoice = app.create_invoice(
                tenant.account_id, NewInvoice(client_id=client.id, line_items=LINES), META
            )
            if i % 2:
                app.record_payment(
                    tenant.account_id, invoice.id, Decimal(10), None, None, None, META
                )
        app.archive_client(tenant.account_id, client.id, META)


@pytest.mark.parametrize("batch", [1, 7, 2_000])
def test_chains_and_entries_rebuilt_in_batches_match_those_written_one_at_a_time(
    services: Services, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(services)
    services.projector.catch_up()
    before = audit_contents(services)
    assert len(before["view_audit"]) > 30 and len(before["audit_account_chain"]) > 30
    # A rebuild keeps the chains; here they are dropped too, so that batches relink them.
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM audit_chain")
        cur.execute("DELETE FROM audit_account_chain")
    monkeypatch.setattr(projector, "BATCH", batch)
    services.projector.rebuild()
    assert audit_contents(services) == before


@pytest.mark.parametrize("missing", ["none", "the later half", "every third"])
@pytest.mark.parametrize("batch", [7, 2_000])
def test_a_rebuild_counting_its_batches_links_exactly_what_the_chains_miss(
    services: Services, batch: int, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of COUNT_FIRST events or more is counted before its links are read; a
    count one short must still read them and link what is missing."""
    populate(services)
    services.projector.catch_up()
    before = audit_contents(services)
    seqs = [row[0] for row in before["audit_chain"]]
    gone = {
        "none": [],
        "the later half": seqs[len(seqs) // 2 :],
        "every third": seqs[::3],
    }[missing]
    with services.db.transaction() as cur:
        for seq in gone:
            cur.execute("DELETE FROM audit_chain WHERE seq = ?", (seq,))
            if missing != "every third":  # an account chain is appended to, never filled in
                cur.execute("DELETE FROM audit_account_chain WHERE seq = ?", (seq,))
    monkeypatch.setattr(projector, "BATCH", batch)
    monkeypatch.setattr(audit_batch, "COUNT_FIRST", 2)
    counted: list[str] = []  # the tables whose links a batch counted and did not read

    def spied(cur: Any, table: str, batch: Any, expected: int) -> Any:
        found = seq_range(cur, table, batch, expected)
        if found is None:
            counted.append(table)
        return found

    monkeypatch.setattr(audit_batch, "seq_range", spied)  # as the account chain finds it
    monkeypatch.setattr(audit_view, "seq_range", spied)
    services.projector.rebuild()
    assert audit_contents(services) == before
    if missing == "none":  # every batch is linked already: counted, never read
        assert {"audit_chain", "audit_account_chain"} <= set(counted)


def test_entry_data_is_what_redacting_the_json_form_gives(services: Services) -> None:
    populate(services)
    events = services.app.recorder.select_notifications(start=1, limit=1_000)
    assert len(events) > 30
    for notification in events:
        event = services.app.mapper.to_domain_event(notification)
        data = {k: v for k, v in vars(event).items() if k not in ("meta", "timestamp")}
        assert entry_data(data) == redact(jsonable(data))


@pytest.mark.parametrize("count", [1, 8, 19])
def test_account_heads_are_each_chains_last_link(services: Services, count: int) -> None:
    """Read eight accounts to a statement, the last statement made up by repeating one:
    each account chained gets its own last link, whatever the chains' lengths, and an
    account with no chain gets nothing."""
    accounts = [f"account-{n:02d}" for n in range(count)]
    seq = 0
    with services.db.transaction() as cur:
        for n, account in enumerate(accounts):
            for position in range(1, 3 * n + 2):  # chains of 1, 4, 7, ... links
                seq += 1
                cur.execute(
                    "INSERT INTO audit_account_chain (seq, account_id, position, hash) "
                    "VALUES (?, ?, ?, ?)",
                    (seq, account, position, f"{account}/{position}"),
                )
        heads = audit_batch.account_heads(cur, [*reversed(accounts), "never-chained"])
    assert heads == {a: (3 * n + 1, f"{a}/{3 * n + 1}") for n, a in enumerate(accounts)}
