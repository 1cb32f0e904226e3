"""Stored outcomes of POST requests made with an Idempotency-Key, shared by all processes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from application.ports import SqlDatabase

KEEP_SECONDS = 48 * 3600  # the contract asks for at least 24 hours
STALE_PENDING_SECONDS = 60.0  # a request in flight this long has died with its process


@dataclass(frozen=True)
class Outcome:
    """What `begin` found: run the request, or replay / refuse it. `nonce` is fixed for
    the key's whole life (until it expires), so every run of one request shares it."""

    state: str  # "new", "replay", "mismatch" or "in_flight"
    status: int = 0
    body: bytes = b""
    location: str | None = None
    nonce: str = ""


class IdempotencyStore:
    """One row per (API key, Idempotency-Key): the request's fingerprint, its state
    (`pending` while it runs, `retryable` after a failure on our side, `done` with the
    outcome to replay) and a nonce from which the command derives the ids it creates.

    A failed or abandoned request keeps its row and fingerprint, so only the same request
    may run again (any other is a mismatch); a re-run has the same nonce, hence the same
    ids, and finds whatever the first run committed.
    """

    def __init__(self, db: SqlDatabase, stale_seconds: float = STALE_PENDING_SECONDS) -> None:
        self.db = db
        self.stale_seconds = stale_seconds
        blob = "BYTEA" if db.dialect == "postgresql" else "BLOB"
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS idempotency_requests ("
                "api_key_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
                "nonce TEXT NOT NULL, state TEXT NOT NULL, status INTEGER, body " + blob + ", "
                "location TEXT, created DOUBLE PRECISION NOT NULL, "
                "started DOUBLE PRECISION NOT NULL, PRIMARY KEY (api_key_id, idem_key))"
            )

    def begin(self, api_key_id: str, key: str, fingerprint: str, now: float) -> Outcome:
        where = (api_key_id, key)
        with self.db.transaction(lock=f"idem:{api_key_id}:{key}") as cur:
            cur.execute(
                "SELECT fingerprint, state, status, body, location, created, started, nonce "
                "FROM idempotency_requests WHERE api_key_id = ? AND idem_key = ?",
                where,
            )
            row = cur.fetchone()
            if row is None or now - row[5] > KEEP_SECONDS:
                nonce = secrets.token_hex(16)  # a key used again after expiry starts afresh
                cur.execute(
                    "DELETE FROM idempotency_requests WHERE api_key_id = ? AND idem_key = ?",
                    where,
                )
                cur.execute(
                    "INSERT INTO idempotency_requests (api_key_id, idem_key, fingerprint, "
                    "nonce, state, created, started) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                    (api_key_id, key, fingerprint, nonce, now, now),
                )
                return Outcome("new", nonce=nonce)
            if row[0] != fingerprint:
                return Outcome("mismatch")
            stale = row[1] == "pending" and now - row[6] > self.stale_seconds
            if row[1] == "retryable" or stale:
                cur.execute(
                    "UPDATE idempotency_requests SET state = 'pending', started = ? "
                    "WHERE api_key_id = ? AND idem_key = ?",
                    (now, *where),
                )
                return Outcome("new", nonce=str(row[7]))
        if row[1] == "pending":
            return Outcome("in_flight")
        return Outcome("replay", int(row[2]), bytes(row[3]), row[4])

    def finish(
        self, api_key_id: str, key: str, status: int, body: bytes, location: str | None
    ) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE idempotency_requests SET state = 'done', status = ?, body = ?, "
                "location = ? WHERE api_key_id = ? AND idem_key = ?",
                (status, body, location, api_key_id, key),
            )

    def abandon(self, api_key_id: str, key: str) -> None:
        """A request that failed on our side may run again, as the same request only."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE idempotency_requests SET state = 'retryable' "
                "WHERE api_key_id = ? AND idem_key = ? AND state = 'pending'",
                (api_key_id, key),
            )

    def purge(self, now: float) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM idempotency_requests WHERE created < ?", (now - KEEP_SECONDS,))
