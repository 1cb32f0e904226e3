"""Faults while requests flow: the database restarts, the server is SIGKILLed mid-payment
and mid-recurring-pass. Nothing acknowledged is lost, nothing is duplicated."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from tests import support
from tests.e2e.faults import KillableServer, PrivateCluster, private_cluster
from tests.e2e.test_server import base_env, make_key, server

FAST = {
    "EXPERI_WRITE_RATE_LIMIT": "1000000",
    "EXPERI_READ_RATE_LIMIT": "1000000",
    "EXPERI_IDEMPOTENCY_STALE_SECONDS": "2",
}


LINE = {"description": "Work", "quantity": 1, "unitPrice": 100}


class Flow:
    """POSTs that a careful client retries with the same Idempotency-Key until a 2xx."""

    def __init__(self, server: KillableServer, headers: dict[str, str]) -> None:
        self.server = server
        self.headers = headers
        self.statuses: list[int] = []
        self.acknowledged: list[dict[str, Any]] = []
        self.bodies_503: list[Any] = []
        self.lock = threading.Lock()

    def post(self, path: str, body: Any) -> dict[str, Any]:
        key = f"flow-{uuid.uuid4()}"
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=30) as web:
            while time.monotonic() < deadline:
                try:
                    r = web.post(
                        f"{self.server.base}{path}",
                        json=body,
                        headers={**self.headers, "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    time.sleep(0.2)  # the server is down: try again
                    continue
                with self.lock:
                    self.statuses.append(r.status_code)
                    if r.status_code == 503:
                        self.bodies_503.append(r.json())
                if r.status_code < 300:
                    with self.lock:
                        self.acknowledged.append(r.json())
                    return r.json()  # type: ignore[no-any-return]
                time.sleep(0.2)
        raise AssertionError(f"{path} was never acknowledged")

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} acknowledged"
            time.sleep(0.05)


def every(base: str, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{base}{path}", params=params, headers=headers, timeout=30).json()
        items += page["data"]
        if not page["pagination"]["hasMore"]:
            return items
        cursor = page["pagination"]["nextCursor"]


def every_stored(env: dict[str, str], headers: dict[str, str]) -> list[dict[str, Any]]:
    """The invoices in the store while the server is down: a short-lived one reads them."""
    probe = KillableServer({**env, "EXPERI_BACKGROUND_JOBS": "0"}, workers=1).start()
    try:
        return every(probe.base, "/api/v1/invoices", headers)
    finally:
        probe.close()


def on_cluster(cluster: PrivateCluster | None, data_dir: Path) -> tuple[PrivateCluster, Settings]:
    """The private cluster (which CI requires) and settings for a store on it."""
    if cluster is None:
        if support.REQUIRE_POSTGRES:
            pytest.fail("a private PostgreSQL cluster is required here but cannot be made")
        pytest.skip("cannot run a private PostgreSQL cluster here")
    env = {"EXPERI_DATA_DIR": str(data_dir), "EXPERI_DATABASE_URL": cluster.url}
    return cluster, Settings.from_env(env)


def test_a_postgres_restart_is_a_503_then_recovers_without_losing_anything(
    tmp_path: Path,
) -> None:
    with private_cluster() as maybe:
        cluster, settings = on_cluster(maybe, tmp_path)
        env = {**base_env(settings), **FAST}
        headers = make_key(env)
        server = KillableServer(env, workers=2).start()
        try:
            flow = Flow(server, headers)
            with ThreadPoolExecutor(max_workers=6) as pool:
                jobs = [
                    pool.submit(flow.post, "/api/v1/clients", {"name": f"Client {n}"})
                    for n in range(60)
                ]
                flow.wait_for(10)
                cluster.stop("immediate")  # the database goes away mid-flow
                time.sleep(3)
                cluster.start()
                created = [job.result() for job in jobs]
            ready = httpx.get(f"{server.base}/health/ready", timeout=10)
            listed = every(server.base, "/api/v1/clients", headers)
            for client in created:
                got = httpx.get(f"{server.base}/api/v1/clients/{client['id']}", headers=headers)
                assert got.status_code == 200
        finally:
            server.close()
    assert 503 in flow.statuses, "the outage was never seen"
    assert 500 not in flow.statuses
    assert set(flow.statuses) <= {201, 409, 503}, sorted(set(flow.statuses))
    error = flow.bodies_503[0]["error"]
    assert error["statusCode"] == 503 and isinstance(error["details"], dict)
    assert ready.status_code == 200  # recovered without a restart
    assert len(listed) == 60 == len({c["id"] for c in created})
    assert sorted(c["name"] for c in listed) == sorted(f"Client {n}" for n in range(60))


def test_a_server_killed_mid_payments_loses_and_duplicates_nothing(settings: Settings) -> None:
    env = {**base_env(settings), **FAST}
    headers = make_key(env)
    server = KillableServer(env, workers=2).start()
    try:
        client = httpx.post(f"{server.base}/api/v1/clients", json={"name": "Zed"}, headers=headers)
        invoice = httpx.post(
            f"{server.base}/api/v1/invoices",
            json={
                "clientId": client.json()["id"],
                "status": "SENT",
                "lineItems": [{"description": "Work", "quantity": 30, "unitPrice": 10}],
            },
            headers=headers,
        ).json()
        flow = Flow(server, headers)
        path = f"/api/v1/invoices/{invoice['id']}/paid"
        with ThreadPoolExecutor(max_workers=10) as pool:
            jobs = [pool.submit(flow.post, path, {"amount": 5.00}) for _ in range(30)]
            flow.wait_for(8)
            server.kill()  # mid-payments: every worker dies at once
            time.sleep(1)
            server.start()
            for job in jobs:
                job.result()
        after = httpx.get(f"{server.base}/api/v1/invoices/{invoice['id']}", headers=headers)
    finally:
        server.close()
    stored = after.json()
    assert len(stored["payments"]) == 30
    assert len({p["id"] for p in stored["payments"]}) == 30
    assert Decimal(str(stored["amountPaid"])) == Decimal("150.00")
    assert Decimal(str(stored["amountDue"])) == Decimal("150.00")
    # Every acknowledged payment is one of the stored ones.
    acknowledged = {p["id"] for ack in flow.acknowledged for p in ack["payments"]}
    assert acknowledged <= {p["id"] for p in stored["payments"]}


def test_a_server_killed_mid_recurring_pass_generates_each_occurrence_once(
    settings: Settings,
) -> None:
    env = {**base_env(settings), **FAST, "EXPERI_RECURRING_INTERVAL_SECONDS": "1"}
    headers = make_key(env)
    start = (datetime.now(UTC) - timedelta(days=360)).date()
    server = KillableServer(env, workers=2).start()
    try:
        client = httpx.post(f"{server.base}/api/v1/clients", json={"name": "Zed"}, headers=headers)
        created = httpx.post(
            f"{server.base}/api/v1/recurring-invoices",
            json={
                "clientId": client.json()["id"],
                "frequency": "DAILY",
                "startDate": start.isoformat(),
                "lineItems": [{"description": "Daily", "quantity": 1, "unitPrice": 10}],
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while len(every(server.base, "/api/v1/invoices", headers)) < 10:
            assert time.monotonic() < deadline, "generation never started"
            time.sleep(0.1)
        server.kill()  # mid-pass
        expected = (datetime.now(UTC).date() - start).days + 1
        at_kill = len(every_stored(env, headers))
        assert at_kill < expected, "the kill did not land mid-pass"
        time.sleep(1)
        server.start()
        deadline = time.monotonic() + 120
        while True:
            invoices = every(server.base, "/api/v1/invoices", headers)
            if len(invoices) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(2)  # a duplicate would appear within the next passes
        invoices = every(server.base, "/api/v1/invoices", headers)
    finally:
        server.close()
    assert len(invoices) == expected
    assert len({i["issueDate"] for i in invoices}) == expected
    numbers = sorted(int(i["invoiceNumber"].split("-")[1]) for i in invoices)
    assert numbers == list(range(1, expected + 1))


def test_a_jobs_process_replaced_during_an_outage_waits_for_the_database(tmp_path: Path) -> None:
    """The supervisor stops every worker when a process fails its start-up; a jobs
    process replaced while the database is down must not count as one."""
    from tests.e2e.test_serving import jobs_process, listeners, servers, wait_until
    from tests.e2e.test_webhook_delivery import WEBHOOKS, subscribe
    from tests.webhook_receiver import Receiver

    with private_cluster() as maybe:
        cluster, settings = on_cluster(maybe, tmp_path)
        env = {**base_env(settings), **FAST, **WEBHOOKS, "EXPERI_WEBHOOK_INTERVAL_SECONDS": "300"}
        headers = make_key(env)
        with Receiver() as receiver:
            server = KillableServer(env, workers=2).start()
            try:
                jobs = jobs_process(server, settings)
                subscribe(server.base, headers, receiver, ["client.created"])
                cluster.stop("immediate")
                os.kill(jobs, signal.SIGKILL)  # its replacement cannot reach the database
                time.sleep(40)  # past the replacement's first failed start (a 30 s wait)
                assert server.proc is not None
                assert server.proc.poll() is None, "the server stopped"
                assert len(servers(server.proc.pid, server.port)) == 2
                cluster.start()
                wait_until(lambda: len(listeners(settings)) == 1, seconds=60)
                Flow(server, headers).post("/api/v1/clients", {"name": "After"})  # 503s first
                receiver.wait_for(1, timeout=15)
            finally:
                server.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_request_fails_on_a_session_the_database_ended_while_it_was_idle(
    settings: Settings,
) -> None:
    """A restart or failover ends every pooled session. Once the database answers
    again, each worker finds the ended ones before it sends anything on them."""
    env = {**base_env(settings), **FAST}
    headers = make_key(env)
    with server(env, workers=2) as (base, _), httpx.Client(base_url=base, timeout=30) as web:
        client = web.post("/api/v1/clients", json={"name": "Zed"}, headers=headers).json()
        body = {"clientId": client["id"], "lineItems": [LINE], "status": "SENT"}

        def create(_: int) -> int:
            with httpx.Client(base_url=base, timeout=30) as own:
                return own.post("/api/v1/invoices", json=body, headers=headers).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:  # several sessions in each pool
            warm = list(pool.map(create, range(40)))
        ended = support.end_sessions(settings.postgres.conninfo())
        with ThreadPoolExecutor(max_workers=8) as pool:
            after = list(pool.map(create, range(60)))
        listed = web.get("/api/v1/invoices?limit=100", headers=headers)
    assert warm == [201] * 40
    assert ended >= 6  # each worker's pools and the jobs process's
    assert after == [201] * 60, sorted(set(after))
    numbers = sorted(i["invoiceNumber"] for i in listed.json()["data"])
    assert numbers == [f"SI-{n:03d}" for n in range(1, 101)]  # gapless, none twice
