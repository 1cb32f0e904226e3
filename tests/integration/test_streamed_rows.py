"""A rebuild streams the rows it adds (PostgreSQL's COPY) and writes what it wrote
before: the same views, and the same answer when one of them is there already."""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

import pytest

from infrastructure.bootstrap import Services
from infrastructure.sql import PostgresCursor
from projections import audit_batch, rebuild_batch
from projections import projector as projector_module
from projections.audit_view import AUDIT_COLUMNS
from projections.progress import Progress
from tests.integration.test_projections import populate
from tests.integration.test_rebuild import Interrupt, StopsAfter, contents
from tests.support import META


def entry(seq: int, marker: str) -> tuple[Any, ...]:
    """An audit entry's row, its id marked to tell one write from another."""
    return (seq, f"{marker}-{seq}", "acc", "2026-01-01T00:00:00.000000Z", "a.b", "a", "e",
            "system", None, None, None, None, None, "{}")  # fmt: skip


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, bool]]:
    """Every batch of new rows is streamed where it can be (not only those of 256 or
    more); each COPY is recorded: (table, rows, whether it wrote them)."""
    monkeypatch.setattr(audit_batch, "COPY_FROM", 1)
    seen: list[tuple[str, int, bool]] = []
    copy = PostgresCursor.copy_new_rows

    def spied(self: PostgresCursor, table: str, columns: Any, rows: Any) -> bool:
        wrote = copy(self, table, columns, rows)
        seen.append((table, len(rows), wrote))
        return wrote

    monkeypatch.setattr(PostgresCursor, "copy_new_rows", spied)
    return seen


def test_a_rebuild_streaming_its_rows_leaves_the_views_as_saves_wrote_them(
    services: Services, copies: list[tuple[str, int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(services)
    services.projector.catch_up()  # the audit views follow the log
    before = contents(services)
    monkeypatch.setattr(projector_module, "BATCH", 7)  # aggregates made across batches
    services.projector.rebuild(Progress(io.StringIO()))
    assert contents(services) == before
    if services.db.dialect == "postgresql":
        streamed = {table for table, _, wrote in copies if wrote}
        assert {"view_audit", "view_invoices", "view_clients"} <= streamed
        assert all(wrote for _, _, wrote in copies)
    else:
        assert copies == []  # SQLite has no COPY: its INSERTs as before


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_row_saved_while_a_rebuild_was_stopped_is_kept_over_the_stream(
    postgres: Services, copies: list[tuple[str, int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client made while a rebuild is unfinished has its row written by its save,
    before the rebuild reaches its event: streaming that batch meets the row, so the
    batch goes by the upsert, and the views end as an undisturbed rebuild leaves them."""
    services = postgres
    populate(services)
    services.projector.catch_up()
    monkeypatch.setattr(projector_module, "BATCH", 7)
    with pytest.raises(Interrupt):
        services.projector.rebuild(StopsAfter(1))
    with services.db.transaction() as cur:
        cur.execute("SELECT id FROM view_accounts")
        (account_id,), *_ = cur.fetchall()  # rebuilt already: its events come first
    made = services.app.create_client(UUID(account_id), {"name": "Made meanwhile"}, META)
    with services.db.transaction() as cur:
        cur.execute("SELECT version FROM view_clients WHERE id = ?", (str(made.id),))
        assert cur.fetchall() == [(1,)]  # the save wrote its row ahead of the rebuild
    services.projector.rebuild(Progress(io.StringIO()))
    resumed = contents(services)
    assert ("view_clients", 1, False) in copies  # met the row, left it to the upsert
    services.projector.rebuild(Progress(io.StringIO()))  # from the start, undisturbed
    assert contents(services) == resumed


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_rows_met_again_are_left_as_the_insert_leaves_them(postgres: Services) -> None:
    """A stream that meets a row already there writes nothing; the rows then go by the
    INSERT, whose ON CONFLICT clause decides, and the transaction goes on."""
    with postgres.db.transaction() as cur:
        assert isinstance(cur, PostgresCursor)
        audit_batch.insert_rows(cur, "postgresql", "view_audit", AUDIT_COLUMNS, [entry(2, "old")])
        assert not cur.copy_new_rows(
            "view_audit", AUDIT_COLUMNS, [entry(1, "new"), entry(2, "new")]
        )
        cur.execute("SELECT id FROM view_audit ORDER BY seq")
        assert cur.fetchall() == [("old-2",)]  # the stream left nothing, not even seq 1
        many = [entry(seq, "new") for seq in range(1, audit_batch.COPY_FROM + 1)]
        audit_batch.insert_new_rows(
            cur, "postgresql", "view_audit", AUDIT_COLUMNS, many, "ON CONFLICT (seq) DO NOTHING"
        )
    with postgres.db.transaction() as cur:
        cur.execute("SELECT seq, id FROM view_audit ORDER BY seq")
        found = cur.fetchall()
    assert len(found) == audit_batch.COPY_FROM
    assert found[1] == (2, "old-2")  # kept, as DO NOTHING keeps it
    assert found[0] == (1, "new-1") and found[-1][1] == f"new-{audit_batch.COPY_FROM}"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_streamed_inline_rows_meeting_a_newer_row_keep_it(
    postgres: Services, copies: list[tuple[str, int, bool]]
) -> None:
    """The rows of aggregates a batch made go by the upsert if one is there already:
    a newer version stays, an older one is replaced."""
    populate(postgres)
    with postgres.db.transaction() as cur:
        cur.execute("SELECT * FROM view_clients ORDER BY id")
        rows = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()
        ]
    assert len(rows) == 2
    view = next(v for v in postgres.projector.views if getattr(v, "table", "") == "view_clients")
    newer, older = rows
    with postgres.db.transaction() as cur:
        cur.execute("DELETE FROM view_clients WHERE id = ?", (older[0],))
        cur.execute("UPDATE view_clients SET version = version + 100 WHERE id = ?", (newer[0],))
        rebuild_batch._upsert_rows(cur, "postgresql", view, [newer, older], new=True)
        cur.execute("SELECT id, version FROM view_clients ORDER BY id")
        found = dict(cur.fetchall())
    assert found[newer[0]] == int(newer[2]) + 100  # the newer row stayed
    assert found[older[0]] == older[2]  # the missing one was added
    assert copies == [("view_clients", 2, False)]  # streamed first, met the newer row


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_stream_the_database_refuses_leaves_the_rows_to_the_insert(
    postgres: Services,
) -> None:
    """Column types read before a table changed (here: every column said to be text)
    make the server refuse the stream: the INSERT writes the rows instead, and the
    types are read again for the next stream."""
    rows = [entry(seq, "id") for seq in range(1, 2 * audit_batch.COPY_FROM + 1)]
    first, second = rows[: audit_batch.COPY_FROM], rows[audit_batch.COPY_FROM :]
    with postgres.db.transaction() as cur:
        assert isinstance(cur, PostgresCursor)
        cur._types["view_audit"] = dict.fromkeys(AUDIT_COLUMNS, 25)  # text, seq included
        audit_batch.insert_new_rows(cur, "postgresql", "view_audit", AUDIT_COLUMNS, first, "")
        assert "view_audit" not in cur._types  # the stream failed; read again next time
        assert cur.copy_new_rows("view_audit", AUDIT_COLUMNS, second)  # types read again
    with postgres.db.transaction() as cur:
        cur.execute("SELECT seq, id FROM view_audit ORDER BY seq")
        assert cur.fetchall() == [(row[0], row[1]) for row in rows]
