"""An account's numbering lock (PostgreSQL) is taken with the command's first read and
given back by its save's COMMIT, on one session: other processes can take it as soon as
the invoice is stored, never while its number is being worked out, and no session keeps
it after a command, however the command ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from application.invoices import NewInvoice
from domain.errors import InvalidInput
from domain.numbering import counter_id
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.support import META, make_tenant

LINES = (LineItem("Work", Decimal(1), Decimal(10)),)


def free(settings: Settings, account_id: UUID) -> bool:
    """Whether another session could take the account's numbering lock right now."""
    return free_key(settings, counter_id(account_id))


def free_key(settings: Settings, key: UUID) -> bool:
    number = int.from_bytes(key.bytes[:8], "big", signed=True)
    with psycopg.connect(settings.postgres.conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (number,)).fetchone()
        assert row is not None
        if row[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (number,))
        return bool(row[0])


def setup(postgres: Services) -> tuple[UUID, Callable[[], NewInvoice]]:
    tenant = make_tenant(postgres)
    client = postgres.app.create_client(tenant.account_id, {"name": "C"}, META)
    return tenant.account_id, lambda: NewInvoice(client_id=client.id, line_items=LINES)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_lock_is_held_from_the_counter_read_and_given_back_by_the_commit(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, new = setup(postgres)
    app = postgres.app
    seen: list[tuple[str, bool]] = []
    real_save = app.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        seen.append(("number worked out", free(settings, account_id)))
        saved = real_save(*objs, **kwargs)
        seen.append(("invoice stored", free(settings, account_id)))
        app.invoice_counter(account_id)  # work after the commit reads without the lock
        seen.append(("read after the commit", free(settings, account_id)))
        return saved

    monkeypatch.setattr(app, "save", save)
    first = app.create_invoice(account_id, new(), META)
    second = app.create_invoice(account_id, new(), META)
    # Still inside the command (its process lock held), other processes may number.
    assert (
        seen
        == [
            ("number worked out", False),
            ("invoice stored", True),
            ("read after the commit", True),
        ]
        * 2
    )
    assert (first.number, second.number) == ("SI-001", "SI-002")
    assert free(settings, account_id)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_save_that_conflicts_keeps_the_lock_through_the_retry(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, new = setup(postgres)
    app = postgres.app
    app.create_invoice(account_id, new(), META)
    real_insert = app.recorder.insert_events
    seen: list[bool] = []

    def conflict_first(*args: Any, **kwargs: Any) -> Any:
        seen.append(free(settings, account_id))
        if len(seen) == 1:
            raise IntegrityError("another writer got there first")  # nothing sent
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", conflict_first)
    again = app.create_invoice(account_id, new(), META)
    monkeypatch.undo()
    # The retry read the counter from the store, and saved, under the same lock.
    assert seen == [False, False]
    assert again.number == "SI-002"
    assert free(settings, account_id)
    assert app.create_invoice(account_id, new(), META).number == "SI-003"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_session_keeps_the_lock_after_a_command_that_failed(
    postgres: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, new = setup(postgres)
    app = postgres.app

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("could not obtain lock on the event table")

    monkeypatch.setattr(app.recorder, "insert_events", unavailable)
    with pytest.raises(OperationalError):
        app.create_invoice(account_id, new(), META)
    monkeypatch.undo()
    assert free(settings, account_id)
    # Refused after the read under the lock (no such client of this account).
    with pytest.raises(InvalidInput):
        app.create_invoice(account_id, replace(new(), client_id=uuid4()), META)
    assert free(settings, account_id)
    assert app.create_invoice(account_id, new(), META).number == "SI-001"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_read_from_the_event_store_under_the_lock_waits_for_it(
    postgres: Services, settings: Settings
) -> None:
    account_id, new = setup(postgres)
    invoice = postgres.app.create_invoice(account_id, new(), META)
    shared = postgres.app.shared_locks
    assert shared is not None
    key = uuid4()
    with shared.hold(key):
        assert free(settings, account_id)  # only `key` is asked for, and not yet
        postgres.app.repository.get(invoice.id)  # not a row read: the store's own
        assert not free_key(settings, key)
    assert free_key(settings, key)
