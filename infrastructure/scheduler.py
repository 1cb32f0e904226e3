"""Runs recurring invoices on a schedule (APScheduler) or once (the CLI, cron, tests)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from domain.recurring import MAX_PER_PASS

log = logging.getLogger("experi.recurring")
# The scheduler reports every run at INFO; only its warnings are worth a log line.
logging.getLogger("apscheduler").setLevel(logging.WARNING)


class RecurringRunner:
    def __init__(self, app: Any, queries: Any, interval_seconds: float = 60.0) -> None:
        self.app = app
        self.queries = queries
        self.interval_seconds = interval_seconds
        self._scheduler: BackgroundScheduler | None = None

    def run_once(self, today: date | None = None) -> int:
        """One pass: every occurrence due by `today` (UTC) becomes its invoice, at most
        MAX_PER_PASS of each template (a long catch-up goes on in the next passes)."""
        today = today or self.app.clock.now().astimezone(UTC).date()
        generated = 0
        for template_id in self.queries.due_recurring(today):
            try:
                made = self.app.generate_due(template_id, today, MAX_PER_PASS)
                generated += made
                if made == MAX_PER_PASS:
                    log.info("recurring invoice %s: more due; the next pass goes on", template_id)
            except Exception:
                # One broken template must not hold up the others; it is tried next pass.
                log.exception("recurring invoice %s could not be generated", template_id)
        return generated

    def start(self) -> None:
        if self._scheduler is not None:
            return
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

    def _tick(self) -> None:
        try:
            count = self.run_once()
            if count:
                log.info("generated %d recurring invoices", count)
        except Exception:
            log.exception("recurring pass failed; trying again next interval")
