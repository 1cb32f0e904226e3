"""Webhooks wired from settings: the address policy, the sender, the store and the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.ports import Page, SqlDatabase
from infrastructure.webhook_sender import WebhookSender
from infrastructure.webhook_settings import WebhookSettings
from infrastructure.webhook_store import WebhookStore
from infrastructure.webhook_targets import TargetPolicy
from infrastructure.webhook_worker import WebhookWorker
from projections.events_feed import EventsFeed
from projections.webhook_rows import WebhookEndpointsView, attempts_page


@dataclass
class WebhookService:
    """What the API and the server need of webhooks."""

    db: SqlDatabase
    view: WebhookEndpointsView
    store: WebhookStore
    worker: WebhookWorker
    app: Any
    _hooked: bool = field(default=False, init=False)  # its commit hook is registered

    def list_endpoints(self, account_id: UUID, limit: int, cursor: str | None) -> Page:
        return self.view.page(self.db, account_id, limit, cursor)

    def deliveries(self, endpoint_id: UUID, limit: int, cursor: str | None) -> Page:
        """Attempts newest first (the caller has checked the endpoint is the account's)."""
        return attempts_page(self.db, endpoint_id, limit, cursor)

    def start(self) -> None:
        # A commit in this process of an account with an endpoint wakes the worker at
        # once; other processes' commits reach it through a jobs process's listener, or
        # on its next pass (EXPERI_WEBHOOK_INTERVAL_SECONDS). Only where the worker runs:
        # a request worker whose jobs run elsewhere has no filter to ask after each save.
        if not self._hooked:
            self.app.on_saved(self.worker.saved)
            self._hooked = True
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()


def build_webhooks(
    settings: WebhookSettings,
    app: Any,
    db: SqlDatabase,
    view: WebhookEndpointsView,
    limiter: Any,
    feed: EventsFeed,
) -> WebhookService:
    targets = TargetPolicy(allow_private=settings.allow_private)
    store = WebhookStore(db, feed.bodies)
    app.webhook_allow_http = settings.allow_http
    app.webhook_addresses = targets
    app.event_feed = store
    worker = WebhookWorker(
        store,
        load_endpoint=lambda endpoint_id: view.load(db, endpoint_id),
        disable=app.disable_failing_endpoint,
        sender=WebhookSender(targets, settings.timeout_seconds),
        limiter=limiter,
        settings=settings,
    )
    return WebhookService(db=db, view=view, store=store, worker=worker, app=app)
