"""Portal sessions (server-side) and the last-used time of API keys."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from uuid import UUID

from application.ports import SqlDatabase

SESSION_SECONDS = 8 * 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Only a hash of each session token is stored; the token lives in the cookie."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS portal_sessions (token_hash TEXT PRIMARY KEY, "
                "user_id TEXT NOT NULL, csrf TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)"
            )

    def create(self, user_id: UUID, now: float) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM portal_sessions WHERE expires < ?", (now,))
            cur.execute(
                "INSERT INTO portal_sessions (token_hash, user_id, csrf, expires) "
                "VALUES (?, ?, ?, ?)",
                (_digest(token), str(user_id), csrf, now + SESSION_SECONDS),
            )
        return token, csrf

    def get(self, token: str, now: float) -> tuple[UUID, str] | None:
        row = self.db.statement(
            "SELECT user_id, csrf FROM portal_sessions WHERE token_hash = ? AND expires > ?",
            (_digest(token), now),
        )
        return (UUID(row[0]), str(row[1])) if row else None

    def delete(self, token: str) -> None:
        self.db.statement("DELETE FROM portal_sessions WHERE token_hash = ?", (_digest(token),))


class KeyUsage:
    """When each API key was last used (updated at most every few seconds per process)."""

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS key_usage (key_id TEXT PRIMARY KEY, "
                "last_used DOUBLE PRECISION NOT NULL)"
            )

    def record(self, key_id: UUID, now: float) -> None:
        with contextlib.suppress(Exception):  # a usage stamp must never fail a request
            self.db.statement(
                "INSERT INTO key_usage (key_id, last_used) VALUES (?, ?) ON CONFLICT (key_id) "
                "DO UPDATE SET last_used = EXCLUDED.last_used",
                (str(key_id), now),
            )

    def last_used(self, key_ids: list[UUID]) -> dict[UUID, float]:
        if not key_ids:
            return {}
        marks = ", ".join("?" for _ in key_ids)
        with self.db.transaction() as cur:
            cur.execute(
                f"SELECT key_id, last_used FROM key_usage WHERE key_id IN ({marks})",
                [str(k) for k in key_ids],
            )
            return {UUID(r[0]): float(r[1]) for r in cur.fetchall()}
