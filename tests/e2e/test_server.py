"""A real `experi serve` process on a real port, with several workers."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from infrastructure.settings import Settings

EXPERI = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running server and the file its output goes to (a pipe could fill and block it)."""

    proc: subprocess.Popen[str]
    output: Path

    def stop(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.output.read_text()


@contextmanager
def server(env: dict[str, str], workers: int = 2) -> Iterator[tuple[str, Served]]:
    port = free_port()
    output = Path(tempfile.mkstemp(prefix="experi-serve-", suffix=".log")[1])
    with output.open("w") as sink:
        proc = subprocess.Popen(
            [*EXPERI, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    served = Served(proc, output)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not become ready")
        yield base, served
    finally:
        if proc.poll() is None:
            served.stop()
        # Shown by pytest only when the test fails: the server's side of a 500.
        print(f"--- server output ({output.name}) ---\n{output.read_text()[-20_000:]}")
        output.unlink(missing_ok=True)


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*EXPERI, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def base_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "EXPERI_DATA_DIR": str(settings.data_dir), "EXPERI_BCRYPT_ROUNDS": "4"}
    env.pop("EXPERI_DATABASE_URL", None)
    if not settings.embedded:
        env["EXPERI_DATABASE_URL"] = settings.database_url
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_first_start_writes_the_demo_key_to_a_private_file_and_prints_no_secret(
    settings: Settings,
) -> None:
    env = base_env(settings)
    key_file = settings.data_dir.resolve() / "demo-api-key"
    if not settings.embedded:
        # With EXPERI_DATABASE_URL set there is never a demo account.
        with server(env) as (_, served):
            assert "exp_live_" not in served.stop()
        assert not key_file.exists()
        return
    with server(env) as (base, served):
        output = served.stop()
    assert "exp_live_" not in output
    assert str(key_file) in output
    for where in ("/api/v1", "/docs", "/login"):
        assert f"{base}{where}" in output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("exp_live_") and key.split("_")[2] in output  # the key id only
    with server(env) as (base, served):
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(f"{base}/api/v1/clients", json={"name": "Zed"}, headers=headers)
        assert created.status_code == 201
        second_output = served.stop()
    assert "exp_live_" not in second_output and str(key_file) not in second_output
    assert key_file.read_text().strip() == key  # made once, on the first start only


def test_a_served_api_keeps_data_across_restarts(settings: Settings) -> None:
    env = base_env(settings)
    key = create_key(env)
    headers = {"Authorization": f"Bearer {key['key']}"}
    with server(env) as (base, _):
        c = httpx.post(f"{base}/api/v1/clients", json={"name": "Zed"}, headers=headers).json()
        numbers = set()
        for _ in range(6):  # spread over both workers
            r = httpx.post(
                f"{base}/api/v1/invoices",
                json={
                    "clientId": c["id"],
                    "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 5}],
                },
                headers=headers,
            )
            assert r.status_code == 201
            numbers.add(r.json()["invoiceNumber"])
        assert numbers == {f"SI-00{n}" for n in range(1, 7)}
    with server(env, workers=1) as (base, _):
        listed = httpx.get(f"{base}/api/v1/invoices", headers=headers).json()
        assert [i["invoiceNumber"] for i in listed["data"]] == [
            f"SI-00{n}" for n in range(6, 0, -1)
        ]
        assert "exp_live_" not in run_cli(env, "keys", "revoke", key["id"])
        # Every process refuses a revoked key within 5 seconds.
        deadline = time.monotonic() + 5
        while httpx.get(f"{base}/api/v1/invoices", headers=headers).status_code != 401:
            assert time.monotonic() < deadline, "revoked key still accepted after 5 s"
            time.sleep(0.2)


def create_key(env: dict[str, str]) -> dict[str, str]:
    """A PRO account with approved API access and a full-access key, made with the CLI."""
    account = json.loads(
        run_cli(env, "accounts", "create", "--name", "Shop", "--email", "s@example.com",
                "--plan", "pro", "--approve-api", "--json")
    )  # fmt: skip
    return json.loads(  # type: ignore[no-any-return]
        run_cli(env, "keys", "create", "--account", account["id"], "--name", "ci",
                "--scopes", "all", "--json")
    )  # fmt: skip


def make_key(env: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(env)['key']}"}
