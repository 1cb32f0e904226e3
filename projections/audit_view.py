"""The audit log, read from the event stream, with a hash chain over every stored event.

Each stored event's hash commits to the previous one, so changing, removing or
inserting an event in the database breaks the chain from that entry on; the chain
rows are never rewritten by a rebuild, and `experi audit verify` recomputes them.
Entries never hold secrets: see `redact`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import Notification

from application.ports import SqlCursor
from projections.audit_batch import (
    Batch,
    KnownOwners,
    chain_before,
    insert_new_rows,
    insert_rows,
    record_owners,
    resolve_owners,
    seq_range,
)
from projections.audit_chain import aggregate_name, chain_hash
from projections.name_ids import NameIds
from projections.stored_time import day, timestamp

ENTRY_NAMESPACE = uuid5(NAMESPACE_URL, "https://experi.invalid/audit-entry")
# `str(uuid5(ENTRY_NAMESPACE, "<entity>:<version>"))`
entry_id = NameIds(ENTRY_NAMESPACE)
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
_SORTED = msgspec.json.Encoder(order="sorted")  # an entry's data, keys in order
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


# Names repeat across events (a few dozen field and event names): converted once each.
@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


@lru_cache(maxsize=4096)
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def jsonable(value: Any) -> Any:
    """Event data as JSON the API can return (camelCase keys, exact decimals as strings)."""
    if value is None or isinstance(value, (str, int, float)):
        return value  # most values: nothing to convert
    if is_dataclass(value) and not isinstance(value, type):
        # Field by field, not asdict(): the recursion below converts nested values, and
        # asdict's deep copies were a large share of a rebuild.
        value = {name: getattr(value, name) for name in field_names(type(value))}
    if isinstance(value, dict):
        return {camel(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def redact(value: Any) -> Any:
    """JSON data without secrets: secret-named fields dropped, secret-looking text masked."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not secret_name(str(k))}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        # Both patterns need a literal ("$" first, "exp_live_"): most text has neither.
        if value.startswith("$") and SECRET_VALUE.match(value):
            return REDACTED
        return API_KEY_TEXT.sub(REDACTED, value) if "exp_live_" in value else value
    return value


_FIELDS: dict[Any, tuple[str, ...]] = {}  # dataclass -> its field names


def field_names(cls: Any) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


def entry_data(value: Any) -> Any:
    """`redact(jsonable(value))` in one pass (a rebuild makes one per event). Only text
    that was text can look like a secret: converted values are ids, amounts and times."""
    kind = type(value)
    if kind is str:
        return redact(value)
    if value is None or kind is int or kind is bool or kind is float:
        return value
    if kind is Decimal or kind is UUID:
        return str(value)
    if kind is datetime:
        return timestamp(value)
    if kind is date:
        return day(value)
    if kind is tuple or kind is list:
        return [entry_data(v) for v in value]
    if kind is dict or (is_dataclass(value) and not isinstance(value, type)):
        items = value if kind is dict else {n: getattr(value, n) for n in field_names(kind)}
        out = {}
        for key, item in items.items():
            name = camel(str(key))
            if not secret_name(name):
                out[name] = entry_data(item)
        return out
    return redact(jsonable(value))  # anything else (times, subclasses) the long way


AUDIT_COLUMNS = (
    "seq", "id", "account_id", "occurred_at", "action", "entity_type", "entity_id",
    "actor_type", "actor_id", "actor_name", "request_id", "ip", "user_agent", "data",
)  # fmt: skip


class AuditView:
    tables: Sequence[str] = ("view_audit", "audit_entities")
    group = "audit"  # followed apart from the rows (a rebuild runs it in its own process)
    dialect = "sqlite"  # set by create_statements: batched inserts differ by database

    def __init__(self) -> None:
        self.known = KnownOwners()

    def create_statements(self, dialect: str) -> list[str]:
        self.dialect = dialect
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
        batch = [(notification, event)]
        self.apply_batch(cur, batch, notification.id - 1, self.prepare(cur, batch))

    def prepare(self, cur: SqlCursor, batch: Batch) -> Any:
        """What the batch reads, before any view writes: links and owners."""
        links = seq_range(cur, "audit_chain", batch, expected=len(batch))
        return links, resolve_owners(cur, batch, self.known)

    def apply_batch(self, cur: SqlCursor, batch: Batch, after: int, prepared: Any) -> None:
        """Link and record the events after `after`, in order, with a few statements."""
        linked, owners = prepared
        every = linked is None  # each event of the batch is linked (a rebuild passing)
        linked = linked or {}
        existing, passed = sorted(linked), 0
        previous: str | None = None  # the hash of the latest link before this event
        links: list[tuple[int, str]] = []
        entities: list[tuple[str, str]] = []
        rows: list[tuple[Any, ...]] = []
        for (notification, event), (account_id, naming) in zip(batch, owners, strict=True):
            while passed < len(existing) and existing[passed] < notification.id:
                previous = str(linked[existing[passed]])
                passed += 1
            if notification.id <= after:
                continue
            if not every and notification.id not in linked:  # never rewritten
                if previous is None:
                    previous = chain_before(cur, notification.id)
                previous = chain_hash(previous, notification)
                links.append((notification.id, previous))
            if naming is not None:
                entities.append((str(event.originator_id), naming))
            if account_id is not None:
                rows.append(self._row(event, notification, account_id))
        insert_rows(cur, self.dialect, "audit_chain", ("seq", "hash"), links)
        record_owners(cur, self.dialect, entities)
        insert_new_rows(
            cur,
            self.dialect,
            "view_audit",
            AUDIT_COLUMNS,
            rows,
            "ON CONFLICT (seq) DO NOTHING",
        )

    @staticmethod
    def _row(event: Any, notification: Notification, account_id: str) -> tuple[Any, ...]:
        entity_id = str(event.originator_id)
        meta = getattr(event, "meta", None) or {}
        entity_type = snake(aggregate_name(event))
        data = {k: v for k, v in vars(event).items() if k not in HIDDEN_FIELDS}
        return (
            notification.id,
            entry_id(entity_id, event.originator_version),
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
            _SORTED.encode(entry_data(data)).decode(),
        )
