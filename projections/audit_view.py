"""The audit log, read from the event stream, with a hash chain over every stored event.

Each stored event's hash commits to the previous one, so changing, removing or
inserting an event in the database breaks the chain from that entry on; the chain
rows are never rewritten by a rebuild, and `experi audit verify` recomputes them.
Entries never hold secrets: see `redact`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Notification

from application.ports import SqlCursor
from projections.audit_chain import GENESIS, aggregate_name, chain_hash, is_audited, named_account

ENTRY_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/audit-entry")
HIDDEN_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "meta",
    "at",
}
# Fields whose name says they hold a secret or a digest of one (password_hash, secretHash,
# sessionToken, ...) are left out of every entry, at any depth, whatever the event: a
# digest lets anyone who reads it test guesses offline, so it is as secret as the secret.
SECRET_NAME = re.compile(r"hash|secret|passw|token|credential|private|salt", re.IGNORECASE)
# Values that are secrets whatever the field is called: modular-crypt password and key
# hashes (argon2, bcrypt, scrypt, pbkdf2, sha-crypt) and full API keys.
SECRET_VALUE = re.compile(r"^\$(argon2(id|i|d)?|2[abxy]?|scrypt|pbkdf2[-\w]*|[1567y]|gy)\$")
API_KEY_TEXT = re.compile(r"exp_live_[0-9a-fA-F-]{8,}_[0-9a-fA-F]{16,}")
REDACTED = "[redacted]"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def jsonable(value: Any) -> Any:
    """Event data as JSON the API can return (camelCase keys, exact decimals as strings)."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {camel(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def redact(value: Any) -> Any:
    """JSON data without secrets: secret-named fields dropped, secret-looking text masked."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not SECRET_NAME.search(str(k))}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return REDACTED if SECRET_VALUE.match(value) else API_KEY_TEXT.sub(REDACTED, value)
    return value


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditView:
    tables: Sequence[str] = ("view_audit", "audit_entities")

    def create_statements(self, dialect: str) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS audit_chain (seq BIGINT PRIMARY KEY, hash TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS audit_entities "
            "(entity_id TEXT PRIMARY KEY, account_id TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS view_audit (seq BIGINT PRIMARY KEY, id TEXT NOT NULL, "
            "account_id TEXT NOT NULL, occurred_at TEXT NOT NULL, action TEXT NOT NULL, "
            "entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, actor_type TEXT NOT NULL, "
            "actor_id TEXT, actor_name TEXT, request_id TEXT, ip TEXT, user_agent TEXT, "
            "data TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS view_audit_account ON view_audit (account_id, seq)",
            "CREATE INDEX IF NOT EXISTS view_audit_entity "
            "ON view_audit (account_id, entity_id, seq)",
        ]

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        self._extend_chain(cur, notification)
        if not is_audited(event):
            return
        entity_id = str(event.originator_id)
        account_id = self._account_of(cur, event, entity_id)
        if account_id is None:
            return
        meta = getattr(event, "meta", None) or {}
        entity_type = snake(aggregate_name(event))
        data = {k: v for k, v in vars(event).items() if k not in HIDDEN_FIELDS}
        cur.execute(
            "INSERT INTO view_audit (seq, id, account_id, occurred_at, action, entity_type, "
            "entity_id, actor_type, actor_id, actor_name, request_id, ip, user_agent, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING",
            (
                notification.id,
                str(uuid5(ENTRY_NAMESPACE, f"{entity_id}:{event.originator_version}")),
                account_id,
                timestamp(event.timestamp),
                f"{entity_type}.{snake(type(event).__name__)}",
                entity_type,
                entity_id,
                meta.get("actorType") or "system",
                meta.get("actorId"),
                meta.get("actorName"),
                meta.get("requestId"),
                meta.get("ip"),
                meta.get("userAgent"),
                json.dumps(redact(jsonable(data)), sort_keys=True),
            ),
        )

    def _account_of(self, cur: SqlCursor, event: Any, entity_id: str) -> str | None:
        account_id = named_account(event)
        if account_id == entity_id:
            return account_id  # an account's own event
        if account_id is not None:
            cur.execute(
                "INSERT INTO audit_entities (entity_id, account_id) VALUES (?, ?) "
                "ON CONFLICT (entity_id) DO NOTHING",
                (entity_id, account_id),
            )
            return account_id
        cur.execute("SELECT account_id FROM audit_entities WHERE entity_id = ?", (entity_id,))
        row = cur.fetchone()
        return str(row[0]) if row else None

    @staticmethod
    def _extend_chain(cur: SqlCursor, notification: Notification) -> None:
        cur.execute("SELECT 1 FROM audit_chain WHERE seq = ?", (notification.id,))
        if cur.fetchone() is not None:
            return  # a rebuild never rewrites the chain
        cur.execute(
            "SELECT hash FROM audit_chain WHERE seq < ? ORDER BY seq DESC LIMIT 1",
            (notification.id,),
        )
        row = cur.fetchone()
        previous = str(row[0]) if row else GENESIS
        cur.execute(
            "INSERT INTO audit_chain (seq, hash) VALUES (?, ?)",
            (notification.id, chain_hash(previous, notification)),
        )
