"""Portal sessions (server-side) and the last-used time of API keys."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken

from application.ports import SqlDatabase

SESSION_SECONDS = 8 * 3600
FLASH_SECONDS = 300  # a kept message waits this long for the page that shows it


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
            cur.execute(
                "CREATE TABLE IF NOT EXISTS portal_flash (token_hash TEXT PRIMARY KEY, "
                "sealed TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)"
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
        self.db.statement("DELETE FROM portal_flash WHERE token_hash = ?", (_digest(token),))

    def put_flash(self, token: str, message: str, now: float) -> None:
        """Keep `message` for the session's next page only (post/redirect/get). It is
        sealed with a key derived from the session token, which only the browser holds
        (the store has a different hash of it), so the store never holds it readable."""
        sealed = _sealer(token).encrypt(message.encode()).decode()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM portal_flash WHERE expires < ?", (now,))
            cur.execute(
                "INSERT INTO portal_flash (token_hash, sealed, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (token_hash) DO UPDATE SET sealed = EXCLUDED.sealed, "
                "expires = EXCLUDED.expires",
                (_digest(token), sealed, now + FLASH_SECONDS),
            )

    def take_flash(self, token: str, now: float) -> str | None:
        """The kept message, once: taking it removes it."""
        with self.db.transaction(lock=f"flash:{_digest(token)}") as cur:
            cur.execute(
                "SELECT sealed FROM portal_flash WHERE token_hash = ? AND expires > ?",
                (_digest(token), now),
            )
            row = cur.fetchone()
            cur.execute("DELETE FROM portal_flash WHERE token_hash = ?", (_digest(token),))
        if row is None:
            return None
        try:
            return _sealer(token).decrypt(str(row[0]).encode()).decode()
        except InvalidToken:
            return None


def _sealer(token: str) -> Fernet:
    key = hashlib.sha256(b"experi-portal-flash:" + token.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


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
