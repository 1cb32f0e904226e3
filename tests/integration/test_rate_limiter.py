"""The rate limiters: fixed windows, honest retry times, shared counts, a store that goes away."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
import redis

from api.services import build_services
from infrastructure.bootstrap import Services
from infrastructure.ratelimit import MemoryRateLimiter, RedisRateLimiter, SqlRateLimiter
from infrastructure.settings import Settings


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


REDIS_URL = os.environ.get("EXPERI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on a reachable Redis; its keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("EXPERI_REQUIRE_REDIS") == "1":
            pytest.fail("Redis is required (EXPERI_REQUIRE_REDIS=1) but unreachable")
        pytest.skip("Redis is not reachable")
    prefix = f"experi-test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_redis_counts_one_allowance_across_processes(redis_prefix: str) -> None:
    a, b = RedisRateLimiter(REDIS_URL, redis_prefix), RedisRateLimiter(REDIS_URL, redis_prefix)
    allowed = [(a if i % 2 else b).hit("shared", 10, 500.0 + i / 100).allowed for i in range(12)]
    assert allowed.count(True) == 10 and allowed[-2:] == [False, False]
    # Another bucket has its own allowance.
    assert a.hit("other", 10, 500.2).allowed
    a.close(), b.close()


def test_redis_counts_exactly_under_concurrent_hits(redis_prefix: str) -> None:
    limiters = [RedisRateLimiter(REDIS_URL, redis_prefix) for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda i: limiters[i % 4].hit("busy", 50, 100.0), range(80)))
    assert sum(d.allowed for d in decisions) == 50
    for limiter in limiters:
        limiter.close()


def test_redis_retry_after_is_honest(redis_prefix: str) -> None:
    a, b = RedisRateLimiter(REDIS_URL, redis_prefix), RedisRateLimiter(REDIS_URL, redis_prefix)
    decisions = [(a, b)[i % 2].hit("k", 3, 1000.0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    refused = decisions[-1]
    assert refused.retry_after == 57 and refused.reset_at == 1060 and refused.remaining == 0
    assert not b.hit("k", 3, 1003.0 + refused.retry_after - 1).allowed
    reopened = a.hit("k", 3, 1003.0 + refused.retry_after)
    assert reopened.allowed and reopened.remaining == 2
    a.close(), b.close()


def test_an_unreachable_redis_falls_back_to_limits_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", "experi-test:")
    with caplog.at_level(logging.WARNING, "experi.ratelimit"):
        decisions = [limiter.hit("k", 2, 10.0) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert "unreachable" in caplog.text
    limiter.close()


def test_redis_url_in_the_settings_selects_the_redis_limiter(settings: Settings) -> None:
    with_redis = replace(settings, redis_url="redis://127.0.0.1:1/0")
    services = build_services(with_redis)
    try:
        assert isinstance(services.limiter.store, RedisRateLimiter)  # type: ignore[attr-defined]
    finally:
        services.close()
