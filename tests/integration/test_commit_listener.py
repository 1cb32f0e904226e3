"""A process whose background jobs run apart hears every process's commits: a save
through other services on the same database wakes its workers at once, a burst of
saves wakes them a few times rather than once per save, and a lost connection is
opened again without losing a wake-up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.commit_listener import APPLICATION_NAME, CommitListener, Wake
from infrastructure.settings import Settings
from tests.support import META, make_tenant

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def two(settings: Settings) -> Iterator[tuple[Services, Services]]:
    """Two sets of services on one store: one listens, the other commits."""
    listening, committing = build_services(settings), build_services(settings)
    try:
        yield listening, committing
    finally:
        listening.close()
        committing.close()


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0  # when it was last woken
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.last = time.monotonic()
        self.event.set()

    def wait(self, seconds: float = 10) -> bool:
        woken = self.event.wait(seconds)
        self.event.clear()
        return woken


@contextmanager
def listening_with(services: Services, *wakes: Wake) -> Iterator[CommitListener]:
    """A listener on the services' store giving these wake-ups, listening, then stopped."""
    made = services.commit_listener()
    heard = CommitListener(made.conninfo, made.channel, wakes, retry=0.1)
    heard.start()
    try:
        assert heard.listening(10)
        yield heard
    finally:
        heard.stop()


def test_a_commit_through_other_services_wakes_the_listener_at_once(
    two: tuple[Services, Services],
) -> None:
    listening, committing = two
    wakes = Wakes()
    with listening_with(listening, Wake(wakes, 0.05)) as heard:
        assert wakes.wait()  # the wake-up on connecting: commits before LISTEN
        started = time.monotonic()
        make_tenant(committing)
        assert wakes.wait(), "a commit in another process woke nothing"
        assert wakes.last - started < 1.0  # woken by the commit, not an interval
        assert heard.heard >= 1


def test_a_burst_of_commits_wakes_each_worker_once_per_gap_and_once_after_the_last(
    two: tuple[Services, Services],
) -> None:
    listening, committing = two
    tenant = make_tenant(committing)
    client = committing.app.create_client(tenant.account_id, {"name": "Zed"}, META)
    fast, slow = Wakes(), Wakes()
    with listening_with(listening, Wake(fast, 0.05), Wake(slow, 0.3)) as heard:
        assert fast.wait() and slow.wait()
        fast.count = slow.count = 0
        before = heard.heard
        started = time.monotonic()
        for i in range(60):
            last_commit = time.monotonic()  # the last one is under way from here
            committing.app.update_client(tenant.account_id, client.id, {"city": f"York {i}"}, META)
        took = time.monotonic() - started
        deadline = time.monotonic() + 10
        while heard.heard - before < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)  # the last gap closes
    assert heard.heard - before == 60  # every commit was heard...
    # ...and woke each worker at most once per its gap, the last time after the last one.
    assert 1 <= slow.count <= took / 0.3 + 2, (slow.count, took)
    assert slow.count <= fast.count <= took / 0.05 + 2, (fast.count, took)
    assert fast.last >= last_commit and slow.last >= last_commit


def test_a_wake_up_declined_for_now_is_given_when_asked_again_without_another_commit(
    two: tuple[Services, Services],
) -> None:
    listening, committing = two
    woken = Wakes()
    answers = [0.3]  # the first time: "not for 0.3 s" (no endpoint known, read recently)

    def call() -> float | None:
        if answers:
            return answers.pop()
        woken()
        return None

    with listening_with(listening, Wake(call, 0.05)):
        started = time.monotonic()  # the connection's own wake-up is declined
        assert woken.wait(5), "a declined wake-up was never given"
        assert woken.last - started >= 0.25
        make_tenant(committing)
        assert woken.wait(), "a commit after it woke nothing"


def test_a_lost_connection_is_opened_again_and_wakes_the_workers(
    two: tuple[Services, Services],
) -> None:
    listening, committing = two
    wakes = Wakes()
    with listening_with(listening, Wake(wakes, 0.05)) as heard:
        assert wakes.wait()
        with psycopg.connect(heard.conninfo, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchall()
        assert cut and all(row[0] for row in cut)
        assert wakes.wait(), "no wake-up after the connection came back"
        assert heard.listening(10)
        make_tenant(committing)
        assert wakes.wait(), "a commit after the reconnection woke nothing"
