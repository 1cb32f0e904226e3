"""Which commits wake this process's webhook worker: only those that may have an
endpoint to go to, and every commit while that is not known."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.meta import system_meta
from domain.webhook_endpoint import WebhookEndpoint
from infrastructure.webhook_wakes import LIMIT, WakeFilter

HOOKED, QUIET = uuid4(), uuid4()


@dataclass
class Owned:
    """An aggregate of an account (an invoice, a client) as far as the filter cares."""

    account_id: UUID


class Store:
    def __init__(self, accounts: list[UUID]) -> None:
        self.accounts = [str(a) for a in accounts]
        self.reads = 0

    def read(self, limit: int) -> list[str] | None:
        self.reads += 1
        return None if len(self.accounts) > limit else list(self.accounts)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def endpoint(account: UUID) -> WebhookEndpoint:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return WebhookEndpoint(
        uuid4(), account, "https://hooks.example/x", ["*"], None, "whsec_x", at, system_meta("t")
    )


def test_until_the_accounts_are_read_every_commit_wakes_the_worker() -> None:
    wakes = WakeFilter(Store([HOOKED]).read, every=1.0, clock=Clock())
    assert wakes.concerns([Owned(QUIET)])


def test_only_commits_of_accounts_with_an_endpoint_wake_the_worker() -> None:
    wakes = WakeFilter(Store([HOOKED]).read, every=1.0, clock=Clock())
    wakes.refresh()
    assert wakes.concerns([Owned(HOOKED)])
    assert wakes.concerns([Owned(QUIET), Owned(HOOKED)])
    assert not wakes.concerns([Owned(QUIET)])
    assert not wakes.concerns([object()])  # no account: no feed event to deliver


def test_a_saved_endpoint_wakes_the_worker_and_every_commit_until_it_reads_again() -> None:
    store, clock = Store([]), Clock()
    wakes = WakeFilter(store.read, every=1.0, clock=clock)
    wakes.refresh()
    assert not wakes.concerns([Owned(QUIET)])
    store.accounts.append(str(QUIET))
    assert wakes.concerns([endpoint(QUIET)])
    assert wakes.concerns([Owned(QUIET)])  # before the worker has read the accounts again
    wakes.refresh()  # at once, though the last read is recent
    assert store.reads == 2
    assert wakes.concerns([Owned(QUIET)])
    assert not wakes.concerns([Owned(HOOKED)])


def test_the_accounts_are_read_again_once_per_period() -> None:
    store, clock = Store([HOOKED]), Clock()
    wakes = WakeFilter(store.read, every=1.0, clock=clock)
    wakes.refresh()
    clock.now += 0.5
    wakes.refresh()
    assert store.reads == 1
    store.accounts = []  # the endpoint was disabled in another process
    clock.now += 0.6
    wakes.refresh()
    assert store.reads == 2
    assert not wakes.concerns([Owned(HOOKED)])


def test_a_commit_wakes_the_worker_to_read_the_accounts_again_once_they_are_old() -> None:
    store, clock = Store([]), Clock()
    wakes = WakeFilter(store.read, every=1.0, clock=clock)
    wakes.refresh()
    store.accounts.append(str(QUIET))  # an endpoint created through another process
    assert not wakes.concerns([Owned(QUIET)])
    clock.now += 1.0
    assert wakes.concerns([Owned(QUIET)])  # the pass it wakes reads them again
    wakes.refresh()
    assert store.reads == 2
    assert wakes.concerns([Owned(QUIET)]) and not wakes.concerns([Owned(HOOKED)])


def test_past_the_limit_every_commit_wakes_the_worker() -> None:
    store = Store([uuid4() for _ in range(LIMIT + 1)])
    wakes = WakeFilter(store.read, every=1.0, clock=Clock())
    wakes.refresh()
    assert wakes.concerns([Owned(QUIET)])


def test_a_failed_read_after_a_saved_endpoint_keeps_every_commit_waking_the_worker() -> None:
    store = Store([])
    wakes = WakeFilter(store.read, every=1.0, clock=Clock())
    wakes.refresh()
    assert wakes.concerns([endpoint(QUIET)])

    def unreachable(limit: int) -> list[str] | None:
        raise ConnectionError("the database went away")

    wakes._read = unreachable
    with pytest.raises(ConnectionError):
        wakes.refresh()
    assert wakes.concerns([Owned(QUIET)])
    wakes._read = store.read
    store.accounts.append(str(QUIET))
    wakes.refresh()
    assert wakes.concerns([Owned(QUIET)]) and not wakes.concerns([Owned(HOOKED)])


def test_a_commit_heard_from_another_process_wakes_the_worker_once_an_endpoint_may_exist() -> None:
    store, clock = Store([]), Clock()
    wakes = WakeFilter(store.read, every=1.0, clock=clock)
    assert wakes.unconcerned_for() == 0  # nothing read yet: wake
    wakes.refresh()
    assert wakes.unconcerned_for() == 1.0  # none anywhere, read just now: ask in 1 s
    store.accounts.append(str(QUIET))  # an endpoint created through another process
    clock.now += 0.4
    assert wakes.unconcerned_for() == pytest.approx(0.6)
    clock.now += 0.6
    assert wakes.unconcerned_for() == 0  # too old to say: the pass it wakes reads again
    wakes.refresh()
    assert wakes.unconcerned_for() == 0  # some account has one: any commit may be its
    store.accounts.clear()
    clock.now += 1.0
    wakes.refresh()
    assert wakes.unconcerned_for() == 1.0
