"""Schemathesis against a served API: every check, its stateful phase included, no failure.

Two things the document cannot say are told to Schemathesis, and only these:

- A request can match the document and still break a rule no schema states: a `clientId`
  of no client, `dueDate` before `issueDate`, a payment above the amount due, a cursor
  this server never handed out, an Idempotency-Key reused with another body. The API
  refuses those with an error `code` of their own (`rule_violated`, `invalid_cursor`,
  `idempotency_key_reused`), never with `validation_failed`. So the 400 and 422 statuses
  are allowed for valid data only together with the check below, which fails any refusal
  of valid data that does not name such a rule.
- Archiving a client (`DELETE /clients/{id}`) keeps it readable with `archivedAt`, as the
  contract says; Schemathesis's use-after-free check assumes a DELETE removes, so it is
  off for that one path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, make_key, server

# Small enough to finish in a few minutes on two cores, large enough to reach every rule.
MAX_EXAMPLES = os.environ.get("EXPERI_SCHEMATHESIS_EXAMPLES", "100")
SEED = os.environ.get("EXPERI_SCHEMATHESIS_SEED", "20260210")

HOOKS = '''
"""The one custom check: valid data may be refused only by a rule, never as invalid."""

import schemathesis

RULES = {"rule_violated", "invalid_cursor", "idempotency_key_reused"}


@schemathesis.check
def refusals_of_valid_data_name_a_rule(ctx, response, case):
    """A 400 or 422 for schema-valid data must carry the code of a rule the document
    cannot state; `validation_failed` there means the document and the server disagree."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    try:
        code = response.json()["error"]["code"]
    except Exception:
        code = None
    if code not in RULES:
        raise AssertionError(f"Schema-valid request refused as {code!r}: {response.text[:300]}")
    return None
'''

CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-path = "/api/v1/clients/{client_id}"
checks.use_after_free.enabled = false
"""


def test_the_served_api_keeps_its_document(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "experi_rules.py").write_text(textwrap.dedent(HOOKS))
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {
        **base_env(settings),
        "EXPERI_READ_RATE_LIMIT": "1000000",
        "EXPERI_WRITE_RATE_LIMIT": "1000000",
        # Every operation is probed with bad keys: more than a client may fail per minute.
        "EXPERI_AUTH_FAILURES_PER_MINUTE": "100000",
    }
    headers = make_key(env)
    tool = Path(sys.executable).with_name("schemathesis")
    with server(env, workers=1) as (base, _):
        command = [
            str(tool), "--config-file", str(config), "run", f"{base}/openapi.json",
            "--url", base,
            # Every check runs (the default); `--checks all` would also switch the one
            # above back on, since the command line outranks the configuration file.
            "--phases", "examples,coverage,fuzzing,stateful",
            "-H", f"Authorization: {headers['Authorization']}",
            "--max-examples", MAX_EXAMPLES,
            "--seed", SEED,
            "--workers", "1",
            "--generation-database", "none",
            "--request-timeout", "30",
            "--no-color",
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env={**env, "SCHEMATHESIS_HOOKS": "experi_rules", "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=1500,
        )
    report = done.stdout + done.stderr
    print(report)
    assert done.returncode == 0, report[-20000:]
