"""Email sending caps per account, counted in the shared database on every backend."""

from __future__ import annotations

import math
from uuid import UUID

from application.ports import RateDecision, RateLimited, SqlCursor, SqlDatabase

# Times are whole microseconds, so that windows add up exactly and never by a hair less.
SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR


class SqlSendQuota:
    """At most `hourly_limit` emails per account per hour and `recipient_daily_limit`
    to one address per day, whichever process or host sends them.

    Each accepted email is one row. A cap of N is reached while its sliding window
    holds N rows, and lifts when the N-th most recent of them leaves the window: that
    moment is an honest Retry-After. An account's rows older than a day are pruned
    when it sends again.
    """

    def __init__(self, db: SqlDatabase, hourly_limit: int, recipient_daily_limit: int) -> None:
        if hourly_limit < 1 or recipient_daily_limit < 1:
            raise ValueError("email sending limits must be at least 1")
        self.db = db
        self.hourly_limit = hourly_limit
        self.recipient_daily_limit = recipient_daily_limit
        with db.transaction(lock="email-sends-setup") as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS email_sends (id TEXT PRIMARY KEY, "
                "account_id TEXT NOT NULL, recipient TEXT NOT NULL, "
                "sent_at BIGINT NOT NULL)"
            )
            cur.execute(
                "CREATE INDEX IF NOT EXISTS email_sends_account "
                "ON email_sends (account_id, sent_at)"
            )
            cur.execute(
                "CREATE INDEX IF NOT EXISTS email_sends_recipient "
                "ON email_sends (account_id, recipient, sent_at)"
            )

    def reserve(self, send_id: UUID, account_id: UUID, recipient: str, now: float) -> None:
        account, address = str(account_id), recipient.strip().lower()
        at = round(now * SECOND)
        # One counter of an account at a time, across processes: count, then insert.
        with self.db.transaction(lock=f"email-sends:{account}") as cur:
            cur.execute(
                "DELETE FROM email_sends WHERE account_id = ? AND sent_at <= ?",
                (account, at - DAY),
            )
            hourly = _wait(cur, "account_id = ?", (account,), HOUR, self.hourly_limit, at)
            daily = _wait(
                cur,
                "account_id = ? AND recipient = ?",
                (account, address),
                DAY,
                self.recipient_daily_limit,
                at,
            )
            if hourly is not None or daily is not None:
                raise _refusal(hourly, daily, self.hourly_limit, self.recipient_daily_limit, now)
            cur.execute(
                "INSERT INTO email_sends (id, account_id, recipient, sent_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (str(send_id), account, address, at),
            )

    def release(self, send_id: UUID) -> None:
        self.db.statement("DELETE FROM email_sends WHERE id = ?", (str(send_id),))


def _wait(
    cur: SqlCursor,
    where: str,
    params: tuple[str, ...],
    window: int,
    limit: int,
    at: int,
) -> int | None:
    """Microseconds until the window has room again, or None if it has room now."""
    cur.execute(
        f"SELECT sent_at FROM email_sends WHERE {where} AND sent_at > ? "
        "ORDER BY sent_at DESC LIMIT 1 OFFSET ?",
        (*params, at - window, limit - 1),
    )
    row = cur.fetchone()
    return None if row is None else int(row[0]) + window - at


def _refusal(
    hourly: int | None, daily: int | None, hourly_limit: int, daily_limit: int, now: float
) -> RateLimited:
    wait = max(w for w in (hourly, daily) if w is not None)
    retry_after = max(1, -(-wait // SECOND))  # whole seconds, rounded up
    if hourly is not None:
        limit, message = hourly_limit, f"at most {hourly_limit} emails per hour per account"
    else:
        limit, message = daily_limit, f"at most {daily_limit} emails per day to one address"
    decision = RateDecision(
        allowed=False,
        limit=limit,
        remaining=0,
        reset_at=math.ceil(now + retry_after),
        retry_after=retry_after,
    )
    return RateLimited(decision, f"Email sending limit reached: {message}")
