"""Delivers queued emails: claims due outbox rows and attempts each delivery once.

Several processes may run a worker on one database: a claim is a conditional
update, so only one of them attempts a given email at a time. A claim lapses after
`claim_seconds` (longer than an SMTP attempt can take), so an attempt cut short by a
crash is made again after that.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import UUID

from application.ports import SqlDatabase
from infrastructure.pass_worker import PassWorker

CLAIM_SECONDS = 120.0
log = logging.getLogger("experi.outbox")


class OutboxWorker(PassWorker):
    name = "experi-outbox"
    failed = "outbox pass failed; trying again shortly"

    def __init__(
        self,
        db: SqlDatabase,
        app: Any,
        projector: Any,
        interval: float = 1.0,
        claim_seconds: float = CLAIM_SECONDS,
    ) -> None:
        super().__init__(log)
        self.claim_seconds = claim_seconds
        self.db = db
        self.app = app
        self.projector = projector
        self.interval = interval

    def due(self, now: float, limit: int = 20) -> list[tuple[str, str]]:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT email_id, invoice_id FROM outbox WHERE due_at <= ? AND claimed_until < ? "
                "ORDER BY due_at LIMIT ?",
                (now, now, limit),
            )
            return [(str(r[0]), str(r[1])) for r in cur.fetchall()]

    def claim(self, email_id: str, now: float) -> bool:
        row = self.db.statement(
            "UPDATE outbox SET claimed_until = ? WHERE email_id = ? AND claimed_until < ? "
            "RETURNING email_id",
            (now + self.claim_seconds, email_id, now),
        )
        return row is not None

    def run_once(self, now: float | None = None) -> int:
        """Attempt every due email once; returns how many attempts were made."""
        self.projector.catch_up()
        now = time.time() if now is None else now
        attempts = 0
        for email_id, invoice_id in self.due(now):
            if not self.claim(email_id, now):
                continue  # another worker has it
            outcome = self.app.deliver_email(UUID(invoice_id), UUID(email_id))
            log.info("email %s: %s", email_id, outcome.outcome)
            attempts += 1
        return attempts
