"""Webhooks from a served API: real events reach a real receiver, signed and in order,
and a server SIGKILLed mid-delivery delivers again, with the same webhook-id, after it
restarts."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from infrastructure.settings import Settings
from tests.e2e.faults import KillableServer
from tests.e2e.test_server import base_env, make_key
from tests.webhook_receiver import Received, Receiver

WEBHOOKS = {
    "EXPERI_WEBHOOK_ALLOW_HTTP": "1",
    "EXPERI_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver listens on 127.0.0.1
    "EXPERI_WEBHOOK_INTERVAL_SECONDS": "0.2",
    "EXPERI_WEBHOOK_RETRY_SECONDS": "1",
    # A cut attempt is made again once its lease lapses; a lease outlives any attempt
    # (at least 2 x timeout + 5 s, so 9 s here).
    "EXPERI_WEBHOOK_TIMEOUT_SECONDS": "2",
    "EXPERI_WEBHOOK_CLAIM_SECONDS": "1",
}


def subscribe(base: str, headers: dict[str, str], receiver: Receiver, events: list[str]) -> str:
    r = httpx.post(
        f"{base}/api/v1/webhook-endpoints",
        json={"url": receiver.url(), "enabledEvents": events},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    receiver.secret = r.json()["secret"]
    return str(r.json()["id"])


def post(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def invoice_body(client_id: str) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 100}],
    }


def test_invoices_created_through_the_api_reach_a_webhook_endpoint_signed_and_in_order(
    settings: Settings,
) -> None:
    env = {**base_env(settings), **WEBHOOKS}
    headers = make_key(env)
    with Receiver() as receiver:
        server = KillableServer(env, workers=1).start()
        try:
            subscribe(server.base, headers, receiver, ["invoice.created", "invoice.paid"])
            client = post(server.base, "/api/v1/clients", {"name": "Zed"}, headers)
            invoices = [
                post(server.base, "/api/v1/invoices", invoice_body(client["id"]), headers)
                for _ in range(3)
            ]
            post(server.base, f"/api/v1/invoices/{invoices[1]['id']}/paid", {}, headers)
            got = receiver.wait_for(4)
            time.sleep(1)  # a duplicate or a stray client event would arrive by now
        finally:
            server.close()
    bodies = [json.loads(r.body) for r in receiver.received]
    assert [(b["type"], b["data"]["object"]["id"]) for b in bodies] == [
        ("invoice.created", invoices[0]["id"]),
        ("invoice.created", invoices[1]["id"]),
        ("invoice.created", invoices[2]["id"]),
        ("invoice.paid", invoices[1]["id"]),
    ]
    assert all(r.verified for r in got)
    assert [r.webhook_id for r in got] == [b["id"] for b in bodies]
    assert len(set(receiver.ids())) == 4


def test_a_server_killed_mid_delivery_delivers_again_with_the_same_webhook_id(
    settings: Settings,
) -> None:
    env = {**base_env(settings), **WEBHOOKS}
    headers = make_key(env)
    arrived, release = threading.Event(), threading.Event()

    def hold_the_first(item: Received) -> None:
        if not arrived.is_set():
            arrived.set()
            release.wait(30)  # the server is killed while this attempt is in flight

    with Receiver() as receiver:
        receiver.hold = hold_the_first
        server = KillableServer(env, workers=1).start()
        try:
            endpoint = subscribe(server.base, headers, receiver, ["*"])
            first = post(server.base, "/api/v1/clients", {"name": "First"}, headers)
            assert arrived.wait(30), "the first delivery never started"
            server.kill()  # mid-delivery: nothing was recorded
            release.set()
            server.start()
            receiver.wait_for(2, timeout=60)
            second = post(server.base, "/api/v1/clients", {"name": "Second"}, headers)
            receiver.wait_for(3, timeout=30)
            time.sleep(1)
            deliveries = httpx.get(
                f"{server.base}/api/v1/webhook-endpoints/{endpoint}/deliveries",
                headers=headers,
            ).json()["data"]
        finally:
            server.close()
    got = receiver.received
    ids = [r.webhook_id for r in got]
    assert ids[0] == ids[1] != ids[2] and len(ids) == 3  # the same webhook-id, again
    assert [json.loads(r.body)["data"]["object"]["id"] for r in got] == [
        first["id"], first["id"], second["id"],
    ]  # fmt: skip
    assert got[0].body == got[1].body and all(r.verified for r in got)
    assert [d["eventId"] for d in deliveries] == [ids[2], ids[0]]  # only completed attempts
    assert all(d["statusCode"] == 200 for d in deliveries)
