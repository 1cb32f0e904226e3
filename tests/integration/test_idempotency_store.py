"""Idempotency-Key records: only the same request may run again, a key's life has one nonce."""

from __future__ import annotations

from infrastructure.bootstrap import Services
from infrastructure.idempotency import KEEP_SECONDS

T0 = 1_800_000_000.0


def test_a_failed_request_may_run_again_only_as_itself(services: Services) -> None:
    store = services.idempotency
    first = store.begin("key-1", "k", "fingerprint-a", T0)
    assert first.state == "new" and first.nonce
    store.abandon("key-1", "k")  # a 5xx on our side
    assert store.begin("key-1", "k", "fingerprint-b", T0 + 1).state == "mismatch"
    again = store.begin("key-1", "k", "fingerprint-a", T0 + 2)
    assert again.state == "new" and again.nonce == first.nonce  # same ids as the first run
    store.finish("key-1", "k", 201, b'{"id": 1}', "/x/1")
    replay = store.begin("key-1", "k", "fingerprint-a", T0 + 3)
    assert (replay.state, replay.status, replay.body) == ("replay", 201, b'{"id": 1}')


def test_a_request_in_flight_is_taken_over_only_once_stale(services: Services) -> None:
    store = services.idempotency
    first = store.begin("key-1", "k", "fp", T0)
    assert store.begin("key-1", "k", "fp", T0 + 1).state == "in_flight"
    assert store.begin("key-1", "k", "other", T0 + store.stale_seconds + 5).state == "mismatch"
    taken = store.begin("key-1", "k", "fp", T0 + store.stale_seconds + 5)
    assert taken.state == "new" and taken.nonce == first.nonce
    assert store.begin("key-1", "k", "fp", T0 + store.stale_seconds + 6).state == "in_flight"


def test_a_key_used_again_after_it_expired_starts_afresh(services: Services) -> None:
    store = services.idempotency
    first = store.begin("key-1", "k", "fp", T0)
    store.finish("key-1", "k", 200, b"{}", None)
    later = store.begin("key-1", "k", "another request", T0 + KEEP_SECONDS + 1)
    assert later.state == "new" and later.nonce != first.nonce


def test_keys_are_scoped_to_the_api_key(services: Services) -> None:
    store = services.idempotency
    store.begin("key-1", "k", "fp", T0)
    assert store.begin("key-2", "k", "other", T0).state == "new"
