"""Bearer-key authentication with caches, so bcrypt runs once per key, not per request.

A verified key is trusted for `STATUS_TTL` seconds before its key and account are read
again, so a revocation (or a lost plan or API access) is refused by every process
within that time. Malformed keys, keys that failed before, and key ids that are revoked
or unknown (whatever secret comes with them) cost no bcrypt; every failure counts
against the client address, which is refused before any bcrypt work once over its limit.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar
from uuid import UUID

from application.accounts import KEY_PATTERN, MAX_BEARER_LENGTH, AccountCommands, Principal
from application.lru import LRU
from application.ports import RateDecision, RateLimited
from domain.errors import Forbidden, NotFound, Unauthenticated

STATUS_TTL = 2.0  # seconds a verified key is trusted before its status is read again
FAILURE_TTL = 60.0  # seconds a failed key, or a revoked or unknown key id, is remembered
FAILURES_PER_MINUTE = 30  # failed attempts allowed per client address per minute

K = TypeVar("K")


@dataclass
class Verified:
    principal: Principal
    checked_at: float


class Authenticator:
    def __init__(
        self,
        app: AccountCommands,
        on_use: Callable[[UUID, float], None] | None = None,
        failures_per_minute: int = FAILURES_PER_MINUTE,
    ) -> None:
        self.app = app
        self.on_use = on_use  # told, every few seconds at most, that a key is in use
        self.failures = FailureCounter(failures_per_minute)
        self.verified: LRU[bytes, Verified] = LRU(10_000)
        self.failed: LRU[bytes, float] = LRU(10_000)
        self.dead: LRU[UUID, float] = LRU(10_000)  # key ids found revoked or unknown
        self.bcrypt_calls = 0  # observable, so tests can prove what was not hashed
        self._checks = [threading.Lock() for _ in range(64)]  # by the bearer's digest

    def cached(self, bearer: str, now: float) -> Principal | None:
        """The key's principal if it was verified and its status read within `STATUS_TTL`
        (no I/O); otherwise None, and `authenticate` must decide."""
        entry = self.verified.get(hashlib.sha256(bearer.encode()).digest())
        if entry is None or now - entry.checked_at >= STATUS_TTL:
            return None
        return entry.principal

    def authenticate(self, bearer: str, address: str, now: float) -> Principal:
        if len(bearer) > MAX_BEARER_LENGTH or not bearer.isascii():
            self._fail(address, now)
        match = KEY_PATTERN.match(bearer)
        if match is None:
            self._fail(address, now)
        digest = hashlib.sha256(bearer.encode()).digest()
        key_id = UUID(match["id"])
        if self._remembered(self.failed, digest, now) or self._remembered(self.dead, key_id, now):
            self._fail(address, now)
        entry = self.verified.get(digest)
        if entry is None:
            # One bcrypt check at a time per bearer (by stripe): concurrent first requests
            # with one key, as a process starts, wait for the first check's outcome.
            with self._checks[digest[0] % len(self._checks)]:
                # Another thread may have checked this very key while this one waited.
                if self._remembered(self.failed, digest, now):
                    self._fail(address, now)
                entry = self.verified.get(digest)
                if entry is None:
                    self._check_address(address, now)
                    entry = self._verify(digest, key_id, match["secret"], address, now)
        if now - entry.checked_at >= STATUS_TTL:
            entry = self._refresh(digest, entry, address, now)
        return entry.principal

    @staticmethod
    def _remembered(cache: LRU[K, float], key: K, now: float) -> bool:
        noted_at = cache.get(key)
        return noted_at is not None and now - noted_at < FAILURE_TTL

    def _verify(
        self, digest: bytes, key_id: UUID, secret: str, address: str, now: float
    ) -> Verified:
        try:
            key = self.app.get_key(key_id)
        except NotFound:
            self.dead.put(key_id, now)
            self._fail(address, now)
        if key.is_revoked:  # refused before bcrypt: a new secret must not buy a new hash
            self.dead.put(key_id, now)
            self._fail(address, now)
        self.bcrypt_calls += 1
        if not self.app.hasher.verify(secret, key.secret_hash):
            self.failed.put(digest, now)
            self._fail(address, now)
        principal = Principal(key.account_id, key.id, key.name, frozenset(key.scopes))
        entry = Verified(principal, checked_at=float("-inf"))
        self.verified.put(digest, entry)
        return entry

    def _refresh(self, digest: bytes, entry: Verified, address: str, now: float) -> Verified:
        """Read the key's and the account's status again (no bcrypt)."""
        key = self.app.get_key(entry.principal.key_id)
        if key.is_revoked:
            self.verified.pop(digest)
            self.dead.put(key.id, now)
            # The caller proved it holds the secret, so it may learn why it is refused.
            self._fail(address, now, "API key has been revoked")
        account = self.app.get_account(key.account_id)
        try:
            account.check_api_allowed()
        except Forbidden as error:
            raise Forbidden(f"{error.message}; this key cannot be used") from None
        fresh = Verified(entry.principal, checked_at=now)
        self.verified.put(digest, fresh)
        if self.on_use is not None:
            self.on_use(key.id, now)
        return fresh

    def _check_address(self, address: str, now: float) -> None:
        """Refuse an address that failed too often, before any bcrypt work."""
        decision = self.failures.peek(address, now)
        if not decision.allowed:
            raise RateLimited(decision, "Too many failed authentication attempts from this address")

    def _fail(self, address: str, now: float, message: str = "Invalid API key") -> NoReturn:
        decision = self.failures.record(address, now)
        if not decision.allowed:
            raise RateLimited(decision, "Too many failed authentication attempts from this address")
        raise Unauthenticated(message)


class FailureCounter:
    """Failed authentications per client address in a one-minute window (per process)."""

    def __init__(self, limit: int = FAILURES_PER_MINUTE, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._counts: LRU[str, tuple[float, int]] = LRU(100_000)

    def _current(self, address: str, now: float) -> tuple[float, int]:
        start, count = self._counts.get(address) or (now, 0)
        return (now, 0) if now - start >= self.window else (start, count)

    def peek(self, address: str, now: float) -> RateDecision:
        start, count = self._current(address, now)
        return self._decision(start, count, now, blocked=count >= self.limit)

    def record(self, address: str, now: float) -> RateDecision:
        start, count = self._current(address, now)
        self._counts.put(address, (start, count + 1))
        return self._decision(start, count + 1, now, blocked=count + 1 > self.limit)

    def _decision(self, start: float, count: int, now: float, *, blocked: bool) -> RateDecision:
        reset = start + self.window
        return RateDecision(
            allowed=not blocked,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset_at=math.ceil(reset),
            retry_after=max(1, math.ceil(reset - now)),
        )
