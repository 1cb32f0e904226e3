"""Webhook endpoints (an inline view), each one's delivery cursor, and its delivery attempts.

The endpoint row and its cursor are written in the events' own transaction: a new
endpoint starts right after its own creation in the feed (nothing older is sent,
nothing newer is missed), and a replay or a re-enable takes effect atomically with the
event that records it. The delivery worker (infrastructure/webhook_worker.py)
moves the cursor only after a 2xx is recorded, and records every attempt here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ports import Page, SqlCursor, SqlDatabase
from domain.webhook_endpoint import WebhookEndpoint
from projections import cursors
from projections.aggregate_view import AggregateView, Seq, blob_type
from projections.plans import run_plan

DELETED = "deleted"  # the row status of a deleted endpoint (never listed or delivered to)
ATTEMPT_COLUMNS = (
    "id", "endpoint_id", "account_id", "event_id", "event_type", "event_seq",
    "attempted_at", "status_code", "latency_ms", "error", "response_body", "next_attempt_at",
)  # fmt: skip


class WebhookEndpointsView(AggregateView):
    table = "view_webhook_endpoints"
    aggregate_class = WebhookEndpoint
    aggregate_event = WebhookEndpoint.Event
    columns = ("account_id", "status")

    def create_statements(self, dialect: str) -> list[str]:
        t = self.table
        serial = (
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            if dialect == "postgresql"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
            f"version INTEGER NOT NULL, state {blob_type(dialect)} NOT NULL, "
            "account_id TEXT NOT NULL, status TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_account_seq ON {t} (account_id, seq)",
            # position: the feed seq delivered (or passed over) last. generation: bumped by
            # each replay or reset, so a delivery that began before one never moves the
            # cursor after it.
            "CREATE TABLE IF NOT EXISTS webhook_cursors (endpoint_id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "generation BIGINT NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0, "
            "rewinds INTEGER NOT NULL DEFAULT 0, "
            "next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0, "
            "claimed_until DOUBLE PRECISION NOT NULL DEFAULT 0, claim_token TEXT, "
            "failing_seq BIGINT, failing_since DOUBLE PRECISION, "
            "failures INTEGER NOT NULL DEFAULT 0)",
            "CREATE INDEX IF NOT EXISTS webhook_cursors_due ON webhook_cursors (next_attempt_at)",
            f"CREATE TABLE IF NOT EXISTS webhook_attempts (seq {serial}, "
            "id TEXT NOT NULL UNIQUE, endpoint_id TEXT NOT NULL, account_id TEXT NOT NULL, "
            "event_id TEXT NOT NULL, event_type TEXT NOT NULL, event_seq BIGINT NOT NULL, "
            "attempted_at TEXT NOT NULL, status_code INTEGER, latency_ms INTEGER NOT NULL, "
            "error TEXT, response_body TEXT, next_attempt_at TEXT)",
            "CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint "
            "ON webhook_attempts (endpoint_id, seq)",
        ]

    def row_values(self, endpoint: Any) -> tuple[Any, ...]:
        status = DELETED if endpoint.is_deleted else endpoint.status
        return (str(endpoint.account_id), status)

    def upsert(self, cur: SqlCursor, aggregate: Any, seq: Seq, row: tuple[Any, ...]) -> None:
        super().upsert(cur, aggregate, seq, row)
        self._keep_cursor(cur, aggregate, seq)

    def _keep_cursor(self, cur: SqlCursor, endpoint: Any, seq: Seq) -> None:
        """Open the endpoint's cursor, and apply its replays and resets, once each.

        A new cursor starts at the endpoint's own first event: the feed's positions are
        the event store's notification ids, so everything after it (and nothing before
        it, even a row the feed fills in later for an older event) is delivered."""
        ident = str(endpoint.id)
        cur.execute(
            "INSERT INTO webhook_cursors (endpoint_id, account_id, position, resets, rewinds) "
            f"VALUES (?, ?, {seq[0]}, ?, ?) ON CONFLICT (endpoint_id) DO NOTHING",
            (ident, str(endpoint.account_id), *seq[1], endpoint.resets, endpoint.rewinds),
        )
        fresh = "failing_seq = NULL, failing_since = NULL, failures = 0, next_attempt_at = 0"
        if endpoint.rewinds and endpoint.rewind_to is not None:
            back = endpoint.rewind_to - 1
            cur.execute(
                "UPDATE webhook_cursors SET position = CASE WHEN position > ? THEN ? "
                f"ELSE position END, rewinds = ?, generation = generation + 1, {fresh} "
                "WHERE endpoint_id = ? AND rewinds < ?",
                (back, back, endpoint.rewinds, ident, endpoint.rewinds),
            )
        if endpoint.resets:
            cur.execute(
                f"UPDATE webhook_cursors SET resets = ?, generation = generation + 1, {fresh} "
                "WHERE endpoint_id = ? AND resets < ?",
                (endpoint.resets, ident, endpoint.resets),
            )

    def page(self, db: SqlDatabase, account_id: UUID, limit: int, cursor: str | None) -> Page:
        sql = (
            f"SELECT id, version, state, seq FROM {self.table} "
            f"WHERE account_id = ? AND status <> '{DELETED}'"
        )
        rows, next_cursor = run_plan(
            db,
            cursors.seq_rows(
                sql, [str(account_id)], limit, cursor, "webhook_endpoints", seq_column=3
            ),
        )
        return Page(self.load_rows(rows), next_cursor)

    def load(self, db: SqlDatabase, endpoint_id: str) -> Any | None:
        """The endpoint as its row stands (for the delivery worker)."""
        row = db.statement(f"SELECT version, state FROM {self.table} WHERE id = ?", (endpoint_id,))
        return None if row is None else self.codec.load(UUID(endpoint_id), row[0], row[1])


def attempts_page(db: SqlDatabase, endpoint_id: UUID, limit: int, cursor: str | None) -> Page:
    """An endpoint's delivery attempts, newest first, as dicts by column name."""
    sql = f"SELECT {', '.join(ATTEMPT_COLUMNS)}, seq FROM webhook_attempts WHERE endpoint_id = ?"
    page = cursors.seq_rows(
        sql, [str(endpoint_id)], limit, cursor, "webhook_attempts", seq_column=len(ATTEMPT_COLUMNS)
    )
    rows, next_cursor = run_plan(db, page)
    return Page([dict(zip(ATTEMPT_COLUMNS, row, strict=False)) for row in rows], next_cursor)
