"""The rate limiter: fixed windows, honest retry times, and a store that goes away."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from infrastructure.bootstrap import Services
from infrastructure.ratelimit import MemoryRateLimiter, SqlRateLimiter


def test_a_window_allows_its_whole_allowance_then_refuses_until_it_closes() -> None:
    limiter = MemoryRateLimiter()
    decisions = [limiter.hit("k", 3, 1000.0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    refused = decisions[-1]
    assert refused.retry_after == 57 and refused.reset_at == 1060
    # Honest: a request after Retry-After succeeds, and not before.
    assert not limiter.hit("k", 3, 1003.0 + refused.retry_after - 1).allowed
    assert limiter.hit("k", 3, 1003.0 + refused.retry_after).allowed


def test_the_shared_limiter_counts_across_instances(services: Services) -> None:
    a, b = SqlRateLimiter(services.db), SqlRateLimiter(services.db)
    allowed = [(a if i % 2 else b).hit("shared", 10, 500.0).allowed for i in range(12)]
    assert allowed.count(True) == 10 and allowed[-2:] == [False, False]


class BrokenDatabase:
    dialect = "postgresql"

    @contextmanager
    def transaction(self, **_: Any) -> Any:
        raise OSError("connection refused")
        yield

    def statement(self, *_: Any) -> Any:
        raise OSError("connection refused")

    def close(self) -> None:
        pass


def test_an_unreachable_store_falls_back_to_limits_per_process(services: Services) -> None:
    limiter = SqlRateLimiter(services.db)
    limiter.db = BrokenDatabase()  # type: ignore[assignment]
    decisions = [limiter.hit("k", 2, 10.0) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
