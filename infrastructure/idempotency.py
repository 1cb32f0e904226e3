"""Stored outcomes of POST requests made with an Idempotency-Key, shared by all processes."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import SqlDatabase

KEEP_SECONDS = 48 * 3600  # the contract asks for at least 24 hours
STALE_PENDING_SECONDS = 30.0  # a request in flight this long has died with its process


@dataclass(frozen=True)
class Outcome:
    """What `begin` found: start the request, or replay / refuse it."""

    state: str  # "new", "replay", "mismatch" or "in_flight"
    status: int = 0
    body: bytes = b""
    location: str | None = None


class IdempotencyStore:
    def __init__(self, db: SqlDatabase, stale_seconds: float = STALE_PENDING_SECONDS) -> None:
        self.db = db
        self.stale_seconds = stale_seconds
        blob = "BYTEA" if db.dialect == "postgresql" else "BLOB"
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS idempotency_keys ("
                "api_key_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
                "state TEXT NOT NULL, status INTEGER, body " + blob + ", location TEXT, "
                "created DOUBLE PRECISION NOT NULL, PRIMARY KEY (api_key_id, idem_key))"
            )

    def begin(self, api_key_id: str, key: str, fingerprint: str, now: float) -> Outcome:
        with self.db.transaction(lock=f"idem:{api_key_id}:{key}") as cur:
            cur.execute(
                "SELECT fingerprint, state, status, body, location, created "
                "FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ?",
                (api_key_id, key),
            )
            row = cur.fetchone()
            expired = row is not None and (
                now - row[5] > KEEP_SECONDS
                or (row[1] == "pending" and now - row[5] > self.stale_seconds)
            )
            if row is None or expired:
                cur.execute(
                    "DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ?",
                    (api_key_id, key),
                )
                cur.execute(
                    "INSERT INTO idempotency_keys (api_key_id, idem_key, fingerprint, state, "
                    "created) VALUES (?, ?, ?, 'pending', ?)",
                    (api_key_id, key, fingerprint, now),
                )
                return Outcome("new")
        if row[0] != fingerprint:
            return Outcome("mismatch")
        if row[1] == "pending":
            return Outcome("in_flight")
        return Outcome("replay", int(row[2]), bytes(row[3]), row[4])

    def finish(
        self, api_key_id: str, key: str, status: int, body: bytes, location: str | None
    ) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, location = ? "
                "WHERE api_key_id = ? AND idem_key = ?",
                (status, body, location, api_key_id, key),
            )

    def abandon(self, api_key_id: str, key: str) -> None:
        """Forget a request that failed on our side, so that a retry runs it again."""
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? "
                "AND state = 'pending'",
                (api_key_id, key),
            )

    def purge(self, now: float) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM idempotency_keys WHERE created < ?", (now - KEEP_SECONDS,))
