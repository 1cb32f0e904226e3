"""The audit log is read from the events, and its hash chain exposes tampering."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from api import cli
from application.invoices import NewInvoice
from domain.meta import Meta
from domain.values import LineItem
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from projections.audit_log import AuditFilter, verify_chain
from tests.support import META, make_tenant

ACTOR = Meta(
    actorType="api_key",
    actorId="key-1",
    actorName="CI key",
    requestId="req-42",
    ip="203.0.113.9",
    userAgent="tests/1.0",
)


def test_every_change_is_an_entry_with_its_actor(services: Services) -> None:
    tenant = make_tenant(services)
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    invoice = app.create_invoice(
        tenant.account_id,
        NewInvoice(client_id=client.id, line_items=(LineItem("x", Decimal(1), Decimal(5)),)),
        ACTOR,
    )
    app.record_payment(tenant.account_id, invoice.id, Decimal(2), None, "Card", None, ACTOR)
    app.revoke_key(tenant.key_id, META)
    page = services.queries.audit_log(tenant.account_id, AuditFilter(), 100, None)
    actions = [e["action"] for e in page.items]
    assert actions == [
        "account.created",
        "api_key.created",
        "client.created",
        "invoice.created",
        "invoice.issued",
        "invoice.payment_recorded",
        "api_key.revoked",
    ]
    paid = page.items[5]
    assert paid["actor"] == {"type": "api_key", "id": "key-1", "name": "CI key"}
    assert (paid["requestId"], paid["ip"], paid["userAgent"]) == (
        "req-42",
        "203.0.113.9",
        "tests/1.0",
    )
    assert paid["data"]["payment"]["amount"] == "2.00"
    assert paid["data"]["payment"]["paymentMethod"] == "Card"
    key_created = page.items[1]
    assert "secretHash" not in key_created["data"]
    assert page.items[-1]["actor"]["type"] == "system"


def test_the_log_filters_by_entity_action_and_time(services: Services) -> None:
    tenant = make_tenant(services)
    other = make_tenant(services, name="Other")
    a = services.app.create_client(tenant.account_id, {"name": "A"}, ACTOR)
    services.app.update_client(tenant.account_id, a.id, {"city": "York"}, META)
    services.app.create_client(other.account_id, {"name": "B"}, ACTOR)

    def actions(**where: Any) -> list[str]:
        page = services.queries.audit_log(tenant.account_id, AuditFilter(**where), 100, None)
        return [e["action"] for e in page.items]

    assert actions(entity_id=str(a.id)) == ["client.created", "client.updated"]
    assert actions(action="client.updated") == ["client.updated"]
    assert actions(entity_type="client") == ["client.created", "client.updated"]
    assert actions(actor_id="key-1") == ["client.created"]
    assert actions(occurred_from="2999-01-01T00:00:00.000000Z") == []
    # Another account's entries never show.
    assert len(actions()) == 4


def tamper(services: Services) -> int:
    """Change the state of one stored event directly in the database."""
    table = "stored_events" if services.db.dialect == "sqlite" else "experi_events"
    position = "rowid" if services.db.dialect == "sqlite" else "notification_id"
    with services.db.transaction() as cur:
        cur.execute(f"SELECT {position}, state FROM {table} ORDER BY {position}")
        row = next(r for r in cur.fetchall() if b'"Zed"' in bytes(r[1]))
        changed = bytes(row[1]).replace(b'"Zed"', b'"Eve"')
        cur.execute(f"UPDATE {table} SET state = ? WHERE {position} = ?", (changed, row[0]))
    return int(row[0])


def test_verify_names_the_first_altered_event(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    services.app.update_client(tenant.account_id, client.id, {"city": "York"}, ACTOR)
    assert verify_chain(services.app.recorder, services.db).ok
    monkeypatch.setenv("EXPERI_DATA_DIR", str(settings.data_dir))
    if not settings.embedded:
        monkeypatch.setenv("EXPERI_DATABASE_URL", settings.database_url)
    assert cli.main(["audit", "verify"]) == 0
    assert "OK" in capsys.readouterr().out

    bad = tamper(services)
    report = verify_chain(services.app.recorder, services.db)
    assert not report.ok and report.first_bad == bad
    assert cli.main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"entry {bad}" in err and str(client.id) in err


def test_a_rebuild_does_not_launder_a_tampered_event(services: Services) -> None:
    tenant = make_tenant(services)
    services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    bad = tamper(services)
    services.projector.rebuild()
    report = verify_chain(services.app.recorder, services.db)
    assert not report.ok and report.first_bad == bad


def events_table(services: Services) -> tuple[str, str]:
    """The event store's table and its position column on this backend."""
    if services.db.dialect == "sqlite":
        return "stored_events", "rowid"
    return "experi_events", "notification_id"


def run_verify(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[int, str]:
    """`experi audit verify` in-process on the test's store; (exit code, stderr)."""
    monkeypatch.setenv("EXPERI_DATA_DIR", str(settings.data_dir))
    if not settings.embedded:
        monkeypatch.setenv("EXPERI_DATABASE_URL", settings.database_url)
    code = cli.main(["audit", "verify", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("value", ["text", "integer", "huge integer"])
def test_a_state_rewritten_as_another_type_is_reported_not_raised(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    services.app.update_client(tenant.account_id, client.id, {"city": "York"}, ACTOR)
    table, position = events_table(services)
    bad = tamper(services)  # the client's Created event, now with other bytes
    with services.db.transaction() as cur:
        if services.db.dialect == "sqlite":
            new = {"text": "'text'", "integer": "42", "huge integer": str(2**62)}[value]
            cur.execute(f"UPDATE {table} SET state = {new} WHERE {position} = ?", (bad,))
        elif value == "text":  # PostgreSQL keeps one type per column: change the column
            cur.execute(f"ALTER TABLE {table} ALTER COLUMN state TYPE TEXT USING 'text'")
            bad = 1  # every row is text now, so the first entry is the first that differs
        else:
            cur.execute(
                f"UPDATE {table} SET state = int8send({2**62}) WHERE {position} = ?", (bad,)
            )
    code, err = run_verify(settings, monkeypatch, capsys)
    assert code == 1
    assert f"FAILED at entry {bad} (stored event #{bad})" in err
    if bad != 1:
        assert str(client.id) in err


def test_a_missing_event_is_named(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    services.app.update_client(tenant.account_id, client.id, {"city": "York"}, ACTOR)
    bad = tamper(services)
    table, position = events_table(services)
    with services.db.transaction() as cur:
        cur.execute(f"DELETE FROM {table} WHERE {position} = ?", (bad,))
    code, err = run_verify(settings, monkeypatch, capsys)
    assert code == 1 and f"entry {bad} " in err and "missing" in err


def test_reordered_events_are_named(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = make_tenant(services)
    client = services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    services.app.update_client(tenant.account_id, client.id, {"city": "York"}, ACTOR)
    table, position = events_table(services)
    with services.db.transaction() as cur:
        cur.execute(f"SELECT {position}, state FROM {table} ORDER BY {position}")
        rows = cur.fetchall()[-2:]  # the client's two events, swapped
        for (here, _), (_, state) in zip(rows, reversed(rows), strict=True):
            cur.execute(f"UPDATE {table} SET state = ? WHERE {position} = ?", (state, here))
    code, err = run_verify(settings, monkeypatch, capsys)
    assert code == 1 and f"FAILED at entry {rows[0][0]} " in err


def test_entries_stored_before_redaction_never_show_a_hash(services: Services) -> None:
    tenant = make_tenant(services)
    leaked = {
        "passwordHash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "plan": "PRO",
        "profile": {"apiToken": "t0k3n", "notes": "exp_live_" + "1" * 36 + "_" + "a" * 48},
    }
    # Rows a projection wrote before the rule existed: the read path redacts them too.
    services.projector.catch_up()  # the audit view follows the event log
    with services.db.transaction() as cur:
        cur.execute("UPDATE view_audit SET data = ?", (json.dumps(leaked),))
    [entry, *_] = services.queries.audit_log(tenant.account_id, AuditFilter(), 100, None).items
    assert entry["data"] == {"plan": "PRO", "profile": {"notes": "[redacted]"}}
