"""Webhook delivery on both databases: signed, in order, retried, disabled, replayed."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.services import build_services
from application.webhooks import NewEndpoint
from domain.errors import InvalidInput, NotFound
from domain.webhook_endpoint import WebhookEndpoint
from infrastructure.bootstrap import Services
from infrastructure.settings import Settings
from infrastructure.webhook_settings import DAY, WebhookSettings
from infrastructure.webhook_targets import TargetPolicy
from projections.audit_log import AuditFilter
from tests.integration.test_feed_payments import PAYMENTS, from_rows_only, paid_invoice
from tests.integration.test_feed_payments import feed as feed_bodies
from tests.integration.webhook_feed import Feed
from tests.ports import refusing_port
from tests.support import META, FakeClock, Tenant, make_tenant
from tests.webhook_receiver import Received, Receiver

FAST = WebhookSettings(
    allow_http=True,
    allow_private=True,  # the receiver listens on 127.0.0.1
    timeout_seconds=2.0,
    claim_seconds=30.0,
    concurrency=1,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhooks=FAST)


@pytest.fixture
def feed(services: Services) -> Feed:
    return Feed(services.db, services.app.recorder)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def subscribe(
    services: Services, tenant: Tenant, receiver: Receiver, events: tuple[str, ...] = ("*",)
) -> WebhookEndpoint:
    endpoint = services.app.create_webhook_endpoint(
        tenant.account_id, NewEndpoint(receiver.url(), list(events)), META
    )
    receiver.secret = endpoint.secret
    return endpoint


def attempts(services: Services, endpoint: WebhookEndpoint) -> list[dict[str, Any]]:
    return list(services.webhooks.deliveries(endpoint.id, 100, None).items)


def deliver_all(services: Services, now: float | None = None, passes: int = 20) -> int:
    made = 0
    for _ in range(passes):
        done = services.webhooks.worker.run_once(now)
        made += done
        if not done:
            break
    return made


def test_events_arrive_in_order_verbatim_signed_with_their_event_id(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    before = feed.add(tenant.account_id, "invoice.created")  # before the endpoint: not sent
    endpoint = subscribe(services, tenant, receiver)
    sent = [feed.add(tenant.account_id, kind) for kind in
            ("client.created", "invoice.created", "invoice.sent", "invoice.paid")]  # fmt: skip
    assert deliver_all(services) == 4
    got = receiver.wait_for(4)
    assert [r.webhook_id for r in got] == [e["id"] for e in sent]
    assert before["id"] not in receiver.ids()
    for r, e in zip(got, sent, strict=True):
        assert r.verified, "the signature must verify with the endpoint's secret"
        assert r.body == e["raw"].encode("utf-8")  # the feed's JSON, verbatim
        assert r.headers["content-type"] == "application/json"
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 60
    rows = attempts(services, endpoint)
    assert [a["event_id"] for a in rows] == [e["id"] for e in reversed(sent)]  # newest first
    assert all(a["status_code"] == 200 and a["next_attempt_at"] is None for a in rows)
    assert deliver_all(services) == 0  # nothing is sent twice


def test_an_endpoint_gets_only_its_types_and_its_own_accounts_events(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    other = make_tenant(services, name="Other Co")
    subscribe(services, tenant, receiver, ("invoice.paid", "invoice.voided"))
    mine = [
        feed.add(tenant.account_id, "invoice.created"),
        feed.add(tenant.account_id, "invoice.paid"),
        feed.add(other.account_id, "invoice.paid"),
        feed.add(tenant.account_id, "client.updated"),
        feed.add(tenant.account_id, "invoice.voided"),
    ]
    deliver_all(services)
    assert receiver.ids() == [mine[1]["id"], mine[4]["id"]]


def test_a_failed_event_is_retried_with_the_same_webhook_id_before_any_later_one(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    first, second = (
        feed.add(tenant.account_id, "invoice.sent"),
        feed.add(tenant.account_id, "invoice.paid"),
    )
    receiver.plan = [500, 503]
    receiver.reply = b"x" * 5000
    t0 = time.time()
    assert services.webhooks.worker.run_once() == 1
    assert services.webhooks.worker.run_once() == 0  # not due yet: backoff
    [failed] = attempts(services, endpoint)
    assert failed["status_code"] == 500 and failed["error"] is None
    assert len(failed["response_body"]) == 1024  # at most 1 kB is kept
    retry_at = datetime.fromisoformat(failed["next_attempt_at"].replace("Z", "+00:00"))
    assert 5 * 0.8 - 1 <= retry_at.timestamp() - t0 <= 5 * 1.2 + 1  # 5 s, jittered
    assert services.webhooks.worker.run_once(t0 + 7) == 1  # 503: again, ~10 s later
    assert services.webhooks.worker.run_once(t0 + 9) == 0
    assert deliver_all(services, t0 + 30) == 2
    assert receiver.ids() == [first["id"], first["id"], first["id"], second["id"]]
    assert all(r.verified for r in receiver.received)
    rows = attempts(services, endpoint)
    assert [(a["event_id"], a["status_code"]) for a in rows] == [
        (second["id"], 200), (first["id"], 200), (first["id"], 503), (first["id"], 500),
    ]  # fmt: skip


def test_an_endpoint_failing_for_three_days_is_disabled_audited_and_can_be_enabled(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    event = feed.add(tenant.account_id, "invoice.paid")
    receiver.default = 500
    t0 = time.time()
    assert services.webhooks.worker.run_once(t0) == 1
    assert services.webhooks.worker.run_once(t0 + DAY) == 1
    assert services.webhooks.worker.run_once(t0 + 2.9 * DAY) == 1
    current = services.app.get_webhook_endpoint(tenant.account_id, endpoint.id)
    assert current.status == "enabled"  # retried for 3 days: the last try is at 3 days
    assert services.webhooks.worker.run_once(t0 + 3 * DAY + 1) == 1
    current = services.app.get_webhook_endpoint(tenant.account_id, endpoint.id)
    assert current.status == "disabled"
    assert "failed for 3 days" in (current.disabled_reason or "")
    assert "HTTP 500" in (current.disabled_reason or "")
    assert services.webhooks.worker.run_once(t0 + 4 * DAY) == 0  # delivery stopped
    entries = services.queries.audit_log(
        tenant.account_id, AuditFilter(entity_id=str(endpoint.id)), 100, None
    ).items
    disabled = [e for e in entries if e["action"] == "webhook_endpoint.disabled"]
    assert len(disabled) == 1 and disabled[0]["actor"]["type"] == "system"
    assert "3 days" in disabled[0]["data"]["reason"]

    receiver.default = 200
    services.app.update_webhook_endpoint(
        tenant.account_id, endpoint.id, {"status": "enabled"}, META
    )
    assert deliver_all(services) == 1  # at once: enabling retries the pending event now
    assert receiver.ids() == [event["id"]] * 5 and receiver.received[-1].verified


def test_a_replay_delivers_exactly_the_original_events_again_in_order(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver, ("invoice.created", "invoice.paid"))
    start = datetime.now(UTC) - timedelta(seconds=1)
    client = feed.add(tenant.account_id, "client.created", start)
    created, paid, again = (
        feed.add(tenant.account_id, kind, start + timedelta(seconds=n))
        for n, kind in enumerate(("invoice.created", "invoice.paid", "invoice.created"), 1)
    )
    deliver_all(services)
    first_bodies = [r.body for r in receiver.received]
    assert receiver.ids() == [created["id"], paid["id"], again["id"]]

    replayed = services.app.replay_webhook_endpoint(
        tenant.account_id, endpoint.id, paid["id"], None, META
    )
    assert replayed is not None and replayed.id == paid["id"]
    deliver_all(services)
    assert receiver.ids()[3:] == [paid["id"], again["id"]]
    assert [r.body for r in receiver.received[3:]] == first_bodies[1:]

    since = services.app.replay_webhook_endpoint(tenant.account_id, endpoint.id, None, start, META)
    assert since is not None and since.id == client["id"]  # where the replay starts
    deliver_all(services)
    assert receiver.ids()[5:] == [created["id"], paid["id"], again["id"]]
    assert all(r.verified for r in receiver.received)
    later = datetime.now(UTC) + timedelta(days=1)
    assert (
        services.app.replay_webhook_endpoint(tenant.account_id, endpoint.id, None, later, META)
        is None
    )  # nothing to replay
    assert deliver_all(services) == 0


def test_a_replay_can_start_only_at_the_accounts_own_events(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    theirs = feed.add(make_tenant(services, name="Other Co").account_id, "invoice.paid")
    for event_id in (theirs["id"], "no-such-event"):
        with pytest.raises(NotFound):
            services.app.replay_webhook_endpoint(
                tenant.account_id, endpoint.id, event_id, None, META
            )


def test_a_replay_during_a_delivery_wins_over_it(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    first, second = (feed.add(tenant.account_id, "invoice.paid") for _ in range(2))

    def replay_while_second_is_in_flight(item: Received) -> None:
        if item.webhook_id == second["id"] and len(receiver.received) == 2:
            services.app.replay_webhook_endpoint(
                tenant.account_id, endpoint.id, first["id"], None, META
            )

    receiver.hold = replay_while_second_is_in_flight
    deliver_all(services)
    assert receiver.ids() == [first["id"], second["id"], first["id"], second["id"]]


def test_two_workers_never_deliver_to_one_endpoint_at_once_and_keep_its_order(
    services: Services, settings: Settings, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    subscribe(services, tenant, receiver)
    sent = [feed.add(tenant.account_id, "invoice.paid")["id"] for _ in range(12)]
    in_flight, most = [0], [0]
    guard = threading.Lock()

    def slow(item: Received) -> None:
        with guard:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.02)
        with guard:
            in_flight[0] -= 1

    receiver.hold = slow
    second = build_services(settings)  # another process on the same database
    try:
        workers = [services.webhooks.worker, second.webhooks.worker]
        deadline = time.monotonic() + 60

        def work(worker: Any) -> None:
            while len(receiver.ids()) < len(sent) and time.monotonic() < deadline:
                worker.run_once()

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        second.close()
    assert receiver.ids() == sent and most[0] == 1


def test_an_attempt_cut_short_is_made_again_after_its_lease_lapses(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    event = feed.add(tenant.account_id, "invoice.paid")
    store = services.webhooks.store
    now = time.time()
    assert store.claim(str(endpoint.id), now, FAST.claim_seconds) is not None  # then "dies"
    assert services.webhooks.worker.run_once() == 0  # the lease still holds
    assert services.webhooks.worker.run_once(now + FAST.claim_seconds + 1) == 1
    assert receiver.ids() == [event["id"]] and receiver.received[0].verified


def test_internal_addresses_and_network_failures_are_failed_attempts_not_crashes(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    strict = TargetPolicy(allow_private=False)
    services.app.webhook_addresses = strict
    services.webhooks.worker.sender.targets = strict
    for url in ("http://127.0.0.1/h", "http://169.254.169.254/latest", "http://10.0.0.1/h"):
        with pytest.raises(InvalidInput) as refused:
            services.app.create_webhook_endpoint(tenant.account_id, NewEndpoint(url, ["*"]), META)
        assert "Must not point to a" in refused.value.details["url"][0]
    by_name = services.app.create_webhook_endpoint(
        tenant.account_id, NewEndpoint(receiver.url("localhost"), ["*"]), META
    )
    feed.add(tenant.account_id, "invoice.paid")
    assert services.webhooks.worker.run_once() == 1
    [attempt] = attempts(services, by_name)
    assert attempt["status_code"] is None and attempt["next_attempt_at"] is not None
    assert "localhost resolves to" in attempt["error"] and "loopback" in attempt["error"]
    assert receiver.received == []  # never connected


def test_refused_connections_and_timeouts_are_recorded_as_errors(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    with refusing_port() as closed:  # held for the whole test
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hooks/experi"
        refused = services.app.create_webhook_endpoint(
            tenant.account_id, NewEndpoint(url, ["*"]), META
        )
        slow = subscribe(services, tenant, receiver)
        receiver.hold = lambda item: time.sleep(FAST.timeout_seconds + 1)
        feed.add(tenant.account_id, "invoice.paid")
        started = time.monotonic()
        assert services.webhooks.worker.run_once() == 2
        assert time.monotonic() - started < FAST.timeout_seconds + 2.5
    assert attempts(services, refused)[0]["error"] == "Connection refused"
    [timed_out] = attempts(services, slow)
    assert timed_out["error"] == "Timed out after 2 s" and timed_out["status_code"] is None


def test_the_accounts_rate_cap_defers_deliveries(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    services.webhooks.worker.settings = dataclasses.replace(FAST, rate_per_second=3)
    subscribe(services, tenant, receiver)
    sent = [feed.add(tenant.account_id, "invoice.paid")["id"] for _ in range(7)]
    t0 = time.time()
    assert services.webhooks.worker.run_once(t0) == 3
    assert services.webhooks.worker.run_once(t0 + 0.1) == 0  # deferred to the next second
    for n in range(1, 4):
        services.webhooks.worker.run_once(t0 + 2 * n)
    assert receiver.ids() == sent


def test_a_deleted_endpoint_gets_nothing_more(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    services.app.delete_webhook_endpoint(tenant.account_id, endpoint.id, META)
    feed.add(tenant.account_id, "invoice.paid")
    assert deliver_all(services) == 0 and receiver.received == []
    with pytest.raises(NotFound):
        services.app.get_webhook_endpoint(tenant.account_id, endpoint.id)


def test_bodies_are_sent_as_stored(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    subscribe(services, tenant, receiver)
    event = feed.add(tenant.account_id, "client.created")
    deliver_all(services)
    assert json.loads(receiver.received[0].body)["data"]["object"]["note"] == "ünïcödé €"
    assert receiver.received[0].body.decode("utf-8") == event["raw"]


def test_a_payment_on_an_invoice_with_many_payments_sends_every_payment(
    services: Services,
    tenant: Tenant,
    receiver: Receiver,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its feed row holds no payment (feed_payments.py): the body sent lists them all,
    as the events feed gives it, and its signature is over exactly those bytes."""
    invoice_id = paid_invoice(services, tenant, clock)
    from_rows_only(services, monkeypatch)
    subscribe(services, tenant, receiver, ("invoice.partially_paid",))
    services.app.record_payment(tenant.account_id, invoice_id, Decimal(1), None, None, None, META)
    assert deliver_all(services) == 1
    [got] = receiver.wait_for(1)
    assert got.verified
    payments = json.loads(got.body)["data"]["object"]["payments"]
    assert len(payments) == PAYMENTS + 1
    assert [p["reference"] for p in payments[:PAYMENTS]] == [f"TXN-{n}" for n in range(PAYMENTS)]
    assert got.body == feed_bodies(services, tenant, invoice_id)[-1]


def test_a_commit_of_an_account_with_an_endpoint_is_delivered_at_once(
    services: Services, tenant: Tenant, receiver: Receiver
) -> None:
    """The worker's periodic pass is minutes away: only a wake after the commit delivers."""
    other = make_tenant(services)
    worker = services.webhooks.worker
    worker.settings = dataclasses.replace(FAST, interval_seconds=600.0)
    services.webhooks.start()
    try:
        subscribe(services, tenant, receiver, ("client.created",))
        services.app.create_client(other.account_id, {"name": "Elsewhere"}, META)
        services.app.create_client(tenant.account_id, {"name": "Here"}, META)
        got = receiver.wait_for(1, timeout=10)
        assert json.loads(got[0].body)["data"]["object"]["name"] == "Here"
    finally:
        services.webhooks.stop()


def test_attempts_older_than_their_retention_are_deleted_and_newer_kept(
    services: Services, tenant: Tenant, feed: Feed, receiver: Receiver
) -> None:
    endpoint = subscribe(services, tenant, receiver)
    t0 = time.time()
    for kind in ("client.created", "invoice.created"):
        feed.add(tenant.account_id, kind)
    assert deliver_all(services, t0) == 2
    worker = services.webhooks.worker
    worker.run_once(t0 + 29 * DAY)  # younger than 30 days: kept
    assert len(attempts(services, endpoint)) == 2
    later = feed.add(tenant.account_id, "invoice.sent")
    assert deliver_all(services, t0 + 30 * DAY + 1) == 1  # the pass prunes first
    worker.run_once(t0 + 30 * DAY + 120)
    # The two from t0 are gone; the one made 30 days later stays (listed, paginated).
    assert [a["event_id"] for a in attempts(services, endpoint)] == [later["id"]]
    assert worker.prune(t0 + 30 * DAY + 180) == 0  # too soon after the last pass
