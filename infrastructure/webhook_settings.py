"""The operator's webhook settings, read from the environment (see the README)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DAY = 86_400.0


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebhookSettings:
    allow_http: bool = False  # EXPERI_WEBHOOK_ALLOW_HTTP: http:// URLs as well as https://
    allow_private: bool = False  # EXPERI_WEBHOOK_ALLOW_PRIVATE: loopback, private, ... too
    timeout_seconds: float = 10.0  # one attempt, from connecting to the response's head
    rate_per_second: int = 10  # deliveries per account per second, across processes
    retry_seconds: float = 5.0  # the first retry's delay; it doubles per failure
    retry_max_seconds: float = 3_600.0
    disable_after_seconds: float = 3 * DAY  # of failures of one event
    claim_seconds: float = 60.0  # a worker's lease on an endpoint; outlives any attempt
    interval_seconds: float = 1.0  # between passes when there is nothing to do
    concurrency: int = 4  # endpoints served at once by one process
    attempts_kept_days: float = 30.0  # delivery attempts older than this are deleted

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        def number(name: str, default: float) -> float:
            value = float(env.get(f"EXPERI_WEBHOOK_{name}") or default)
            if not value > 0:
                raise ValueError(f"EXPERI_WEBHOOK_{name} must be greater than 0")
            return value

        timeout = number("TIMEOUT_SECONDS", cls.timeout_seconds)
        return cls(
            allow_http=_flag(env.get("EXPERI_WEBHOOK_ALLOW_HTTP")),
            allow_private=_flag(env.get("EXPERI_WEBHOOK_ALLOW_PRIVATE")),
            timeout_seconds=timeout,
            rate_per_second=int(number("RATE_PER_SECOND", cls.rate_per_second)),
            retry_seconds=number("RETRY_SECONDS", cls.retry_seconds),
            retry_max_seconds=number("RETRY_MAX_SECONDS", cls.retry_max_seconds),
            disable_after_seconds=number("DISABLE_AFTER_SECONDS", cls.disable_after_seconds),
            # The lease must outlast an attempt, or a second worker could start the same one.
            claim_seconds=max(number("CLAIM_SECONDS", cls.claim_seconds), timeout * 2 + 5),
            interval_seconds=number("INTERVAL_SECONDS", cls.interval_seconds),
            concurrency=int(number("CONCURRENCY", cls.concurrency)),
            attempts_kept_days=number("ATTEMPTS_KEPT_DAYS", cls.attempts_kept_days),
        )
