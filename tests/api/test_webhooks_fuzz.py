"""Arbitrary JSON in any field of a webhook request is a 2xx or a 4xx, never a 5xx."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st
from pytest import fixture

from infrastructure.settings import Settings
from tests.api.test_hostile_fuzz import FUZZ, Api, fuzzed, paths, send, substitute
from tests.support import Tenant

BASE = "/api/v1/webhook-endpoints"
ENDPOINT = {
    "url": "https://example.com/hooks",
    "enabledEvents": ["invoice.paid"],
    "description": "sync",
}


@fixture
def settings(settings: Settings) -> Iterator[Settings]:
    yield dataclasses.replace(settings, read_rate_limit=10**6, write_rate_limit=10**6)


@FUZZ
@fuzzed
def test_creating_and_changing_endpoints(
    client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool
) -> None:
    path = data.draw(st.sampled_from(paths((*ENDPOINT, "status"))))
    send(client, tenant, "POST", BASE, substitute(ENDPOINT, path, value), ascii_only)
    made = client.post(BASE, json=ENDPOINT, headers=tenant.headers).json()
    url = f"{BASE}/{made['id']}"
    send(client, tenant, "PATCH", url, substitute({"status": "enabled"}, path, value), ascii_only)


@FUZZ
@fuzzed
def test_replaying(client: Api, tenant: Tenant, data: Any, value: Any, ascii_only: bool) -> None:
    made = client.post(BASE, json=ENDPOINT, headers=tenant.headers).json()
    base = {"fromEventId": "5b0e8c1e-6f4a-5d2b-9c3e-7a1f2b3c4d5e", "from": "2026-02-10T00:00:00Z"}
    path = data.draw(st.sampled_from(paths(base)))
    send(
        client,
        tenant,
        "POST",
        f"{BASE}/{made['id']}/replay",
        substitute(base, path, value),
        ascii_only,
    )
