"""Deleting the chain's last entries along with a rewritten event is caught by verify."""

from __future__ import annotations

import pytest

from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from tests.integration.test_audit import ACTOR, run_verify, tamper
from tests.support import make_tenant


def test_a_chain_whose_tail_was_deleted_fails_verification(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant = make_tenant(services)
    services.app.create_client(tenant.account_id, {"name": "Zed"}, ACTOR)
    services.projector.catch_up()
    bad = tamper(services)  # the newest event is rewritten ...
    with services.db.transaction() as cur:  # ... and its chain entry removed to hide it
        cur.execute("DELETE FROM audit_chain WHERE seq >= ?", (bad,))
    code, err = run_verify(settings, monkeypatch, capsys)
    assert code == 1 and f"entry {bad} " in err and "chain entry is missing" in err
