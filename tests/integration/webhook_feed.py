"""Feed rows for delivery tests, written as the events feed's writer writes them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from application.ports import SqlDatabase

# The feed's table exactly as its writer declares it (CREATE ... IF NOT EXISTS: a no-op
# where the writer made it already).
DDL = (
    "CREATE TABLE IF NOT EXISTS view_events (seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
    "account_id TEXT NOT NULL, type TEXT NOT NULL, created_at TEXT NOT NULL, "
    "entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS view_events_account ON view_events (account_id, seq)",
)


class Feed:
    """Appends events after every stored one: feed positions are notification ids."""

    def __init__(self, db: SqlDatabase, recorder: Any) -> None:
        self.db = db
        self.recorder = recorder
        with db.transaction() as cur:
            for statement in DDL:
                cur.execute(statement)

    def add(
        self, account_id: UUID, kind: str, created_at: datetime | None = None
    ) -> dict[str, Any]:
        """Append an event of `kind`; returns its body (as sent) with `seq` and `raw`."""
        entity_type, _ = kind.split(".", 1)
        at = (created_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entity_id = str(uuid.uuid4())
        event_id = str(uuid.uuid4())
        body = {
            "id": event_id,
            "type": kind,
            "createdAt": at,
            "entityType": entity_type,
            "entityId": entity_id,
            "data": {"object": {"id": entity_id, "note": "ünïcödé €"}},
            "actor": {"type": "api_key", "id": "k", "name": "test key"},
            "requestId": None,
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        with self.db.transaction() as cur:
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM view_events")
            row = cur.fetchone()
            stored = self.recorder.max_notification_id() or 0
            seq = max(int(row[0] if row else 0), stored) + 1
            cur.execute(
                "INSERT INTO view_events (seq, id, account_id, type, created_at, entity_type, "
                "entity_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, event_id, str(account_id), kind, at, entity_type, entity_id, raw),
            )
        return {**body, "seq": seq, "raw": raw}
