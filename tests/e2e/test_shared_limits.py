"""Two server processes on one PostgreSQL database share limits and idempotency keys."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from infrastructure.settings import Settings
from tests.e2e.test_server import base_env, make_key, server


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_burst_across_two_processes_gets_exactly_the_allowance(settings: Settings) -> None:
    env = base_env(settings)
    headers = make_key(env)
    with server(env, workers=1) as (first, _), server(env, workers=1) as (second, _):
        with httpx.Client(headers=headers) as web:
            c = web.post(f"{first}/api/v1/clients", json={"name": "Zed"}).json()
            paths = [f"{base}/api/v1/clients/{c['id']}" for base in (first, second)]

        def read(i: int) -> int:
            with httpx.Client(headers=headers, timeout=30) as web:
                return web.get(paths[i % 2]).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            counts = Counter(pool.map(read, range(1100)))
    assert counts == {200: 1000, 429: 100}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_fifty_concurrent_retries_with_one_key_create_one_object(settings: Settings) -> None:
    env = base_env(settings)
    headers = {**make_key(env), "Idempotency-Key": "create-zed-once"}
    with server(env, workers=1) as (first, _), server(env, workers=1) as (second, _):

        def create(i: int) -> tuple[int, str | None]:
            base = (first, second)[i % 2]
            r = httpx.post(
                f"{base}/api/v1/clients", json={"name": "Zed"}, headers=headers, timeout=30
            )
            return r.status_code, r.json().get("id")

        with ThreadPoolExecutor(max_workers=25) as pool:
            results = list(pool.map(create, range(50)))
        listed = httpx.get(f"{first}/api/v1/clients", headers=headers).json()["data"]
    assert len(listed) == 1
    assert {status for status, _ in results} <= {201, 409}
    assert {i for status, i in results if status == 201} == {listed[0]["id"]}
