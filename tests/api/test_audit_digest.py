"""The signed audit digest: what it says, whose it is, and what a kept one proves later."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api import cli
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from infrastructure.signing import digest_message
from tests.api.helpers import create_client
from tests.integration.test_audit import events_table
from tests.support import Tenant, make_tenant


def digest_of(client: TestClient, tenant: Tenant) -> dict[str, Any]:  # type: ignore[type-arg]
    r = client.get("/api/v1/audit-log/digest", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def verify(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Any:
    """`experi audit verify --digest FILE` in-process: (exit code, stdout + stderr)."""
    monkeypatch.setenv("EXPERI_DATA_DIR", str(settings.data_dir))
    if not settings.embedded:
        monkeypatch.setenv("EXPERI_DATABASE_URL", settings.database_url)

    def run(digest: dict[str, Any] | None, *extra: str) -> tuple[int, str]:
        args = ["audit", "verify", *extra]
        if digest is not None:
            path = tmp_path / "digest.json"
            path.write_text(json.dumps(digest))
            args += ["--digest", str(path)]
        capsys.readouterr()
        code = cli.main(args)
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out + out.err

    return run


def busy(client: TestClient, tenant: Tenant, clients: int = 3) -> None:  # type: ignore[type-arg]
    for n in range(clients):
        c = create_client(client, tenant, name=f"Client {n}")
        r = client.patch(
            f"/api/v1/clients/{c['id']}", json={"city": "York"}, headers=tenant.headers
        )
        assert r.status_code == 200


def test_the_digest_is_signed_by_the_server_key(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
    capsys: pytest.CaptureFixture[str],
) -> None:
    busy(client, tenant)
    digest = digest_of(client, tenant)
    assert set(digest) == {"length", "headHash", "signedAt", "signature", "publicKeyId"}
    entries = client.get("/api/v1/audit-log?limit=100", headers=tenant.headers).json()["data"]
    assert digest["length"] == len(entries) == 8  # the account's own entries, no one else's
    assert len(digest["headHash"]) == 64 and digest["signedAt"].endswith("Z")
    public = services.signer.public_key(digest["publicKeyId"])
    assert public is not None
    assert hashlib.sha256(public.public_bytes_raw()).hexdigest()[:16] == digest["publicKeyId"]
    message = digest_message(
        str(tenant.account_id), digest["length"], digest["headHash"], digest["signedAt"]
    )
    public.verify(base64.b64decode(digest["signature"]), message)  # raises if it does not hold
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/audit-log/digest"]["get"]
    assert "audit:read" in spec["description"]
    # The private key shows nowhere: not in responses, not in the access log.
    private = services.db.statement("SELECT private_key FROM audit_signing_keys")
    assert private is not None
    shown = json.dumps(digest) + capsys.readouterr().out
    assert private[0] not in shown and private[0][:16] not in shown


def test_the_digest_needs_the_audit_scope(
    client: TestClient,  # type: ignore[type-arg]
    services: Services,
) -> None:
    reader = make_tenant(services, scopes="clients:read")
    r = client.get("/api/v1/audit-log/digest", headers=reader.headers)
    assert r.status_code == 403 and "audit:read" in r.json()["error"]["message"]


def test_each_account_has_its_own_digest(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    other_tenant: Tenant,
    verify: Any,
) -> None:
    busy(client, tenant)
    mine = digest_of(client, tenant)
    busy(client, other_tenant, clients=1)
    theirs = digest_of(client, other_tenant)
    assert theirs["length"] == 4 and theirs["headHash"] != mine["headHash"]
    # The other account's activity leaves this account's chain where it was.
    again = digest_of(client, tenant)
    assert (again["length"], again["headHash"]) == (mine["length"], mine["headHash"])
    # A digest holds for its own account only.
    code, out = verify(mine, "--account", str(other_tenant.account_id))
    assert code == 1 and "signature does not hold" in out
    code, out = verify(mine)
    assert code == 0 and f"first {mine['length']} entries match the digest" in out
    forged = {**mine, "length": mine["length"] - 1}
    code, out = verify(forged)
    assert code == 1 and "signature" in out


def test_a_kept_digest_holds_while_the_log_only_grows(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    verify: Any,
) -> None:
    busy(client, tenant)
    kept = digest_of(client, tenant)
    assert verify(kept)[0] == 0
    busy(client, tenant, clients=1)
    code, _ = verify(kept)
    assert code == 0


def wipe(services: Services, where: str = "") -> None:
    """What someone covering their tracks does: remove events and their chain rows alike."""
    table, position = events_table(services)
    with services.db.transaction() as cur:
        cur.execute(f"SELECT MIN({position}) FROM {table} {where}")
        row = cur.fetchone()
        first = row[0] if row and row[0] is not None else 0
        cur.execute(f"DELETE FROM {table} WHERE {position} >= ?", (first,))
        cur.execute("DELETE FROM audit_chain WHERE seq >= ?", (first,))
        cur.execute("DELETE FROM audit_account_chain WHERE seq >= ?", (first,))
        cur.execute("DELETE FROM view_audit WHERE seq >= ?", (first,))


def test_deleting_every_event_fails_against_a_kept_digest(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
    verify: Any,
) -> None:
    busy(client, tenant)
    kept = digest_of(client, tenant)
    wipe(services)
    assert verify(None)[0] == 0  # with nothing left, the chain alone cannot tell
    code, out = verify(kept)
    assert code == 1
    assert f"entry 1: the digest covers {kept['length']} entries but the store holds 0" in out


def test_deleting_the_last_event_fails_against_a_kept_digest(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
    verify: Any,
) -> None:
    busy(client, tenant)
    kept = digest_of(client, tenant)
    table, position = events_table(services)
    wipe(services, f"WHERE {position} = (SELECT MAX({position}) FROM {table})")
    assert verify(None)[0] == 0
    code, out = verify(kept)
    last = kept["length"]
    assert code == 1 and f"entry {last}: " in out and "truncated" in out


def test_altering_an_event_fails_against_a_kept_digest(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
    verify: Any,
) -> None:
    busy(client, tenant)
    kept = digest_of(client, tenant)
    table, position = events_table(services)
    with services.db.transaction() as cur:
        cur.execute(f"SELECT {position}, state FROM {table} ORDER BY {position}")
        seq, state = next(r for r in cur.fetchall() if b'"Client 1"' in bytes(r[1]))
        changed = bytes(state).replace(b'"Client 1"', b'"Client X"')
        cur.execute(f"UPDATE {table} SET state = ? WHERE {position} = ?", (changed, seq))
    code, out = verify(kept)
    # The account's entries: account, key, then a client created and updated per client.
    assert code == 1 and f"entry 5 (stored event #{seq}): event " in out

    # Rewriting the chains to match (and rebuilding the views) hides it from the chain alone.
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM audit_chain")
        cur.execute("DELETE FROM audit_account_chain")
    services.projector.rebuild()
    assert verify(None)[0] == 0
    code, out = verify(kept)
    assert code == 1 and f"entry {kept['length']} " in out and "rewritten" in out


def test_a_store_that_predates_digests_is_chained_from_its_first_event(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    services: Services,
) -> None:
    busy(client, tenant)
    before = digest_of(client, tenant)
    with services.db.transaction() as cur:
        cur.execute("DROP TABLE audit_account_chain")
        cur.execute("DELETE FROM projection_tracking WHERE name = 'AccountChainView'")
    services.projector.setup()
    after = digest_of(client, tenant)
    assert (after["length"], after["headHash"]) == (before["length"], before["headHash"])


def test_an_unreadable_digest_file_is_an_error_not_a_crash(verify: Any) -> None:
    assert verify({"length": "many"})[0] == 1
    code, out = verify({"length": 1})
    assert code == 1 and "lacks headHash" in out
