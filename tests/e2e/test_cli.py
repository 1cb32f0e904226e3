"""The `experi` command as an operator meets it: which store, a missing store, updates."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.test_server import EXPERI


def experi(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXPERI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "EXPERI_DATA_DIR": str(data_dir), "EXPERI_BCRYPT_ROUNDS": "4"}
    env.pop("EXPERI_DATABASE_URL", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_admin_commands_refuse_a_store_that_does_not_exist(tmp_path: Path) -> None:
    env = embedded_env(tmp_path / "nowhere")
    for args in (
        ("keys", "create", "--account", "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", "--name", "x",
         "--scopes", "all"),
        ("accounts", "list"),
        ("projections", "rebuild"),
    ):  # fmt: skip
        done = experi(env, *args)
        assert done.returncode == 2, done
        assert "no store at" in done.stderr and str(tmp_path / "nowhere") in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "nowhere").exists()  # nothing was created by the refusals


def test_commands_name_their_store_and_keep_stdout_for_json(tmp_path: Path) -> None:
    env = embedded_env(tmp_path / "data")
    made = experi(env, "accounts", "create", "--name", "Shop", "--email", "s@example.com",
                  "--plan", "pro", "--approve-api", "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    account = json.loads(made.stdout)
    assert "creating a new store" in made.stderr and "experi.sqlite3" in made.stderr
    # From another working directory the same store is found (no relative default).
    listed = experi(env, "accounts", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and "using SQLite file" in listed.stderr
    assert [a["id"] for a in json.loads(listed.stdout)] == [account["id"]]


def test_accounts_update_applies_the_accounts_rules(tmp_path: Path) -> None:
    env = embedded_env(tmp_path / "data")
    made = experi(env, "accounts", "create", "--name", "Shop", "--email", "s@example.com",
                  "--json")  # fmt: skip
    account_id = json.loads(made.stdout)["id"]
    bad = experi(env, "accounts", "update", account_id, "--invoice-prefix", "NO-DASHES")
    assert bad.returncode == 1 and "invoice_prefix" in bad.stderr
    good = experi(env, "accounts", "update", account_id, "--business-name", "Shop Ltd",
                  "--invoice-prefix", "INV", "--json")  # fmt: skip
    assert good.returncode == 0, good.stderr
    shown = json.loads(good.stdout)
    assert shown["businessName"] == "Shop Ltd" and shown["invoicePrefix"] == "INV"
    assert shown["plan"] == "FREE" and shown["id"] == account_id


def test_the_default_store_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    env.pop("EXPERI_DATA_DIR")
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    first = experi(env, "accounts", "create", "--name", "A", "--email", "a@example.com",
                   cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = experi(env, "accounts", "list", "--json", cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 1
    assert str(tmp_path / "xdg" / "experi") in listed.stderr
