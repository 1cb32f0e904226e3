"""Delivers the account events feed to webhook endpoints: in order, at least once, signed.

Per endpoint a cursor (the feed position delivered last) moves only once a 2xx is
recorded, so an attempt cut short by a crash is made again, with the same webhook-id,
after its lease lapses. Several processes may run a worker on one database: a lease is
a conditional update, so one endpoint is served by one worker at a time, one event at a
time, in feed order. A failed event is retried (5 s doubling to 1 h, with jitter) for 3
days from its first failure; then the endpoint is disabled, which the audit log shows.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol
from uuid import UUID

from application.ports import RateDecision
from infrastructure.webhook_sender import WebhookSender
from infrastructure.webhook_settings import DAY, WebhookSettings
from infrastructure.webhook_store import Lease, Pending, WebhookStore, iso
from infrastructure.webhook_wakes import WakeFilter

log = logging.getLogger("experi.webhooks")
BATCH = 50  # endpoints looked at per pass
PER_LEASE = 20  # events one lease may deliver before others get a turn
MARGIN = 5.0  # seconds of lease an attempt must have left beyond its timeout
PRUNE_EVERY = 60.0  # seconds between two prunings of old attempts by one process


class WindowLimiter(Protocol):
    """A rate limiter whose window the caller chooses (the SQL one, shared by processes)."""

    def hit(self, bucket: str, limit: int, now: float, window: float = ...) -> RateDecision: ...


def backoff(failures: int, settings: WebhookSettings) -> float:
    """The delay after the n-th failure in a row: doubling, capped, jittered (+-20%)."""
    delay = min(settings.retry_seconds * 2.0 ** min(failures - 1, 40), settings.retry_max_seconds)
    return float(min(delay * random.uniform(0.8, 1.2), settings.retry_max_seconds))


class WebhookWorker:
    def __init__(
        self,
        store: WebhookStore,
        load_endpoint: Callable[[str], Any],
        disable: Callable[[UUID, str], Any],
        sender: WebhookSender,
        limiter: WindowLimiter,
        settings: WebhookSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.load_endpoint = load_endpoint
        self.disable = disable
        self.sender = sender
        self.limiter = limiter
        self.settings = settings
        self.clock = clock
        self.wakes = WakeFilter(store.hooked_accounts)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pruned_at = float("-inf")

    def run_once(self, now: float | None = None) -> int:
        """Serve every due endpoint once; returns how many attempts were made. `now`
        (tests) shifts this pass's clock; attempts are still signed with the real time."""
        offset = 0.0 if now is None else now - self.clock()
        self.wakes.refresh()
        at = self.clock() + offset
        try:
            self.prune(at)
        except Exception:  # the deliveries go on; the next pruning tries again
            log.warning("old webhook attempts could not be deleted", exc_info=True)
        due = self.store.due(at, BATCH)
        if self._pool is None or len(due) < 2:
            return sum(self.serve(endpoint_id, offset) for endpoint_id in due)
        return sum(self._pool.map(lambda e: self.serve(e, offset), due))

    def prune(self, now: float) -> int:
        """Delete attempts older than `attempts_kept_days`, a batch at most every
        `PRUNE_EVERY` seconds (the deliveries list keeps that long)."""
        if now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        return self.store.prune(now - self.settings.attempts_kept_days * DAY)

    def serve(self, endpoint_id: str, offset: float = 0.0) -> int:
        """Deliver this endpoint's next events under one lease; returns the attempts made."""
        started = self.clock() + offset
        lease = self.store.claim(endpoint_id, started, self.settings.claim_seconds)
        if lease is None:
            return 0  # another worker has it, or it is not due after all
        attempts = 0
        held: Lease | None = lease
        try:
            endpoint = self.load_endpoint(endpoint_id)
            if endpoint is None or endpoint.is_deleted or endpoint.status != "enabled":
                return 0
            types = None if "*" in endpoint.enabled_events else tuple(endpoint.enabled_events)
            for _ in range(PER_LEASE):
                now = self.clock() + offset
                left = started + self.settings.claim_seconds - now
                if held is None or left < self.settings.timeout_seconds + MARGIN:
                    break
                event = self.store.next_event(held, types)
                if event is None:
                    held = self.store.pass_over(held)
                    break
                decision = self.limiter.hit(
                    f"webhooks:{held.account_id}", self.settings.rate_per_second, now, window=1.0
                )
                if not decision.allowed:
                    self.store.defer(held, float(decision.reset_at))
                    break
                attempts += 1
                held = self._attempt(endpoint, held, event, offset)
                if held is None or held.failing_seq is not None:
                    break  # failed (retried later), or a replay or reset overtook it
        finally:
            self.store.release(lease)
        return attempts

    def _attempt(self, endpoint: Any, lease: Lease, event: Pending, offset: float) -> Lease | None:
        outcome = self.sender.send(endpoint.url, endpoint.secret, event.id, event.body)
        at = self.clock() + offset
        failures = 1 if lease.failing_seq != event.seq else lease.failures + 1
        recorded = self.store.record(
            lease,
            event,
            outcome,
            at,
            retry_in=backoff(failures, self.settings),
            window=self.settings.disable_after_seconds,
        )
        if outcome.delivered:
            log.info(
                "webhook %s to endpoint %s: %s", event.id, lease.endpoint_id, outcome.status_code
            )
        else:
            log.info(
                "webhook %s to endpoint %s failed (%s); next attempt %s",
                event.id, lease.endpoint_id, outcome.error or outcome.status_code,
                iso(recorded.next_attempt_at) if recorded.next_attempt_at else "none",
            )  # fmt: skip
        if recorded.give_up:
            self._give_up(lease, outcome.error or f"HTTP {outcome.status_code}")
            return None
        return recorded.lease

    def _give_up(self, lease: Lease, last_error: str) -> None:
        days = self.settings.disable_after_seconds / 86_400
        span = f"{days:g} days" if days >= 1 else f"{self.settings.disable_after_seconds:g} s"
        reason = f"Every delivery attempt failed for {span}; last error: {last_error}"
        try:
            self.disable(UUID(lease.endpoint_id), reason[:500])
            log.warning(
                "webhook endpoint %s disabled: deliveries failed for %s", lease.endpoint_id, span
            )
        except Exception:
            # The next attempt, failing again, disables it then.
            log.exception("webhook endpoint %s could not be disabled", lease.endpoint_id)

    def saved(self, aggregates: Sequence[Any]) -> None:
        """After a commit in this process: a pass at once if its events may have an
        endpoint to go to (`WakeFilter`)."""
        if self.wakes.concerns(aggregates):
            self._wake.set()

    def heard(self) -> float:
        """After a commit in any process (its aggregates unknown): a pass at once if an
        endpoint may have events to take; else the seconds after which to ask again
        (`WakeFilter.unconcerned_for`)."""
        later = self.wakes.unconcerned_for()
        if not later:
            self._wake.set()
        return later

    def start(self) -> None:
        if self._thread is not None:
            return
        if self.settings.concurrency > 1:
            self._pool = ThreadPoolExecutor(
                self.settings.concurrency, thread_name_prefix="experi-webhook"
            )
        self._thread = threading.Thread(target=self._loop, name="experi-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout_seconds + 5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = 0
            try:
                busy = self.run_once()
            except Exception:
                log.exception("webhook pass failed; trying again shortly")
            if not busy:  # straight on while there is work, else wait for the next pass
                self._wake.wait(self.settings.interval_seconds)
                self._wake.clear()
