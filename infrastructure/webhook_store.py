"""Delivery state in SQL: which endpoints have work, leases on them, and each attempt.

Every cursor change is conditional on the `generation` and `position` read when the
lease was taken: a replay or reset that commits meanwhile (they bump the generation,
projections/webhook_rows.py) always wins over a delivery that began before it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import takewhile
from typing import Any
from uuid import UUID

from application.ports import SqlDatabase
from application.webhooks import FeedEvent
from infrastructure.webhook_sender import Outcome
from projections.stored_time import timestamp

FEED = "view_events"
# An account's stored feed bodies, as the API gives them (EventsFeed.bodies).
Bodies = Callable[[SqlDatabase, str, Sequence[str]], list[bytes]]


@dataclass(frozen=True)
class Lease:
    """One worker's hold on one endpoint's cursor, and the cursor as it was read."""

    endpoint_id: str
    account_id: str
    token: str
    position: int
    generation: int
    failing_seq: int | None
    failing_since: float | None
    failures: int


@dataclass(frozen=True)
class Pending:
    """The next event an endpoint is to receive."""

    seq: int
    id: str
    type: str
    body: str


@dataclass(frozen=True)
class Recorded:
    lease: Lease | None  # the lease with the cursor as it now stands; None if overtaken
    next_attempt_at: float | None  # when the failed event is tried again
    give_up: bool  # the event has failed for the whole window: disable the endpoint


def iso(at: float) -> str:
    return timestamp(datetime.fromtimestamp(at, UTC))


PRUNE_BATCH = 1_000  # attempts deleted at most per pass


class WebhookStore:
    def __init__(self, db: SqlDatabase, bodies: Bodies) -> None:
        self.db = db
        self.bodies = bodies  # stored feed bodies as sent (EventsFeed.bodies)
        self._feed_seen = False

    def prune(self, before: float, limit: int = PRUNE_BATCH) -> int:
        """Delete the oldest delivery attempts made before `before`, at most `limit`;
        returns how many. Only the oldest `limit` rows by seq are looked at (attempts
        are stored in about the order they are made), so a pass costs the same whatever
        the table's size."""
        # A writer's lock from the start (SQLite's BEGIN IMMEDIATE waits for it, where
        # upgrading a read to a write fails at once); one process prunes at a time.
        with self.db.transaction(lock="webhook-prune") as cur:
            cur.execute(
                "SELECT seq, attempted_at FROM webhook_attempts ORDER BY seq LIMIT ?", (limit,)
            )
            cutoff = iso(before)
            old = [int(seq) for seq, _ in takewhile(lambda r: str(r[1]) < cutoff, cur.fetchall())]
            if old:
                cur.execute(
                    "DELETE FROM webhook_attempts WHERE seq <= ? AND attempted_at < ?",
                    (old[-1], cutoff),
                )
        return len(old)

    def has_feed(self) -> bool:
        """Whether the events feed's table exists yet (it is created by its own writer)."""
        if not self._feed_seen:
            if self.db.dialect == "postgresql":
                row = self.db.statement(f"SELECT to_regclass('{FEED}') IS NOT NULL")
            else:
                row = self.db.statement(
                    f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{FEED}'"
                )
            self._feed_seen = bool(row and row[0])
        return self._feed_seen

    def due(self, now: float, limit: int) -> list[str]:
        """Enabled endpoints, free and due, with events after their cursor."""
        if not self.has_feed():
            return []
        rows = self.db.rows(  # one round trip: a read needs no transaction of its own
            "SELECT c.endpoint_id FROM webhook_cursors c "
            "JOIN view_webhook_endpoints v ON v.id = c.endpoint_id "
            "WHERE v.status = 'enabled' AND c.next_attempt_at <= ? AND c.claimed_until < ? "
            f"AND EXISTS (SELECT 1 FROM {FEED} e "
            "WHERE e.account_id = c.account_id AND e.seq > c.position) "
            "ORDER BY c.next_attempt_at LIMIT ?",
            (now, now, limit),
        )
        return [str(row[0]) for row in rows]

    def hooked_accounts(self, limit: int) -> list[str] | None:
        """The accounts with an enabled endpoint; None if there are more than `limit`."""
        rows = self.db.rows(
            "SELECT DISTINCT account_id FROM view_webhook_endpoints WHERE status = 'enabled' "
            "LIMIT ?",
            (limit + 1,),
        )
        return None if len(rows) > limit else [str(row[0]) for row in rows]

    def claim(self, endpoint_id: str, now: float, seconds: float) -> Lease | None:
        """A lease on the endpoint, unless another worker holds one or it is not due."""
        token = secrets.token_hex(8)
        row = self.db.statement(
            "UPDATE webhook_cursors SET claimed_until = ?, claim_token = ? "
            "WHERE endpoint_id = ? AND claimed_until < ? AND next_attempt_at <= ? "
            "RETURNING account_id, position, generation, failing_seq, failing_since, failures",
            (now + seconds, token, endpoint_id, now, now),
        )
        if row is None:
            return None
        return Lease(
            endpoint_id=endpoint_id,
            account_id=str(row[0]),
            token=token,
            position=int(row[1]),
            generation=int(row[2]),
            failing_seq=None if row[3] is None else int(row[3]),
            failing_since=None if row[4] is None else float(row[4]),
            failures=int(row[5]),
        )

    def release(self, lease: Lease) -> None:
        self.db.statement(
            "UPDATE webhook_cursors SET claimed_until = 0 "
            "WHERE endpoint_id = ? AND claim_token = ?",
            (lease.endpoint_id, lease.token),
        )

    def next_event(self, lease: Lease, types: tuple[str, ...] | None) -> Pending | None:
        """The first event after the cursor whose type the endpoint receives."""
        sql = f"SELECT seq, id, type, body FROM {FEED} WHERE account_id = ? AND seq > ?"
        params: list[Any] = [lease.account_id, lease.position]
        if types is not None:
            sql += f" AND type IN ({', '.join('?' for _ in types)})"
            params += list(types)
        row = self.db.statement(sql + " ORDER BY seq LIMIT 1", params)
        if row is None:
            return None
        (body,) = self.bodies(self.db, lease.account_id, [str(row[3])])
        return Pending(int(row[0]), str(row[1]), str(row[2]), body.decode())

    def pass_over(self, lease: Lease) -> Lease | None:
        """Move the cursor past events the endpoint does not receive (none is pending)."""
        row = self.db.statement(
            f"SELECT MAX(seq) FROM {FEED} WHERE account_id = ? AND seq > ?",
            (lease.account_id, lease.position),
        )
        if row is None or row[0] is None:
            return lease
        return self._move(lease, int(row[0]))

    def _move(self, lease: Lease, seq: int) -> Lease | None:
        moved = self.db.statement(
            "UPDATE webhook_cursors SET position = ? "
            "WHERE endpoint_id = ? AND generation = ? AND position = ? RETURNING position",
            (seq, lease.endpoint_id, lease.generation, lease.position),
        )
        return replace(lease, position=seq) if moved else None

    def defer(self, lease: Lease, until: float) -> None:
        """Try again no sooner than `until` (the account's rate cap was reached)."""
        self.db.statement(
            "UPDATE webhook_cursors SET next_attempt_at = ? WHERE endpoint_id = ? "
            "AND generation = ?",
            (until, lease.endpoint_id, lease.generation),
        )

    def record(
        self,
        lease: Lease,
        event: Pending,
        outcome: Outcome,
        at: float,
        retry_in: float,
        window: float,
    ) -> Recorded:
        """Store the attempt; on a 2xx move the cursor past the event, else schedule the
        same event again (`retry_in` later, the last try at the end of `window`)."""
        if outcome.delivered:
            since, failures, retry_at, give_up = None, 0, None, False
        else:
            same = lease.failing_seq == event.seq and lease.failing_since is not None
            since = lease.failing_since if same and lease.failing_since is not None else at
            failures = lease.failures + 1 if same else 1
            give_up = at - since >= window
            retry_at = at + retry_in if give_up else min(at + retry_in, since + window)
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO webhook_attempts (id, endpoint_id, account_id, event_id, "
                "event_type, event_seq, attempted_at, status_code, latency_ms, error, "
                "response_body, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()), lease.endpoint_id, lease.account_id, event.id,
                    event.type, event.seq, iso(at), outcome.status_code, outcome.latency_ms,
                    outcome.error, outcome.response_body,
                    None if retry_at is None or give_up else iso(retry_at),
                ),
            )  # fmt: skip
            position = event.seq if outcome.delivered else lease.position
            cur.execute(
                "UPDATE webhook_cursors SET position = ?, failing_seq = ?, failing_since = ?, "
                "failures = ?, next_attempt_at = ? "
                "WHERE endpoint_id = ? AND generation = ? AND position = ? RETURNING position",
                (
                    position, None if outcome.delivered else event.seq, since, failures,
                    at if retry_at is None else retry_at,
                    lease.endpoint_id, lease.generation, lease.position,
                ),
            )  # fmt: skip
            current = bool(cur.fetchall())
        after = replace(
            lease,
            position=position,
            failing_seq=None if outcome.delivered else event.seq,
            failing_since=since,
            failures=failures,
        )
        return Recorded(after if current else None, retry_at, give_up and current)

    # The EventFeed port (application/webhooks.py): where a replay starts.

    def find(self, account_id: UUID, event_id: str) -> FeedEvent | None:
        if not self.has_feed():
            return None
        row = self.db.statement(
            f"SELECT seq, id, type, created_at FROM {FEED} WHERE id = ? AND account_id = ?",
            (event_id, str(account_id)),
        )
        return None if row is None else FeedEvent(int(row[0]), *map(str, row[1:]))

    def first_since(self, account_id: UUID, moment: datetime) -> FeedEvent | None:
        if not self.has_feed():
            return None
        row = self.db.statement(
            f"SELECT seq, id, type, created_at FROM {FEED} WHERE account_id = ? "
            "AND created_at >= ? ORDER BY seq LIMIT 1",
            (str(account_id), timestamp(moment)),
        )
        return None if row is None else FeedEvent(int(row[0]), *map(str, row[1:]))
