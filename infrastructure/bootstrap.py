"""The composition root: builds the application, its database, views and services from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.app import Experi
from application.authentication import Authenticator
from application.ports import Clock, Documents, InvoiceDocument, RateLimiter
from application.sending import DeliveryPolicy
from domain.client import Client
from domain.invoice import Invoice
from domain.recurring import RecurringInvoice
from infrastructure.commit_listener import CommitListener, Wake
from infrastructure.eventstore import InlinePostgresRecorder, InlineSQLiteRecorder, event_store_env
from infrastructure.hashing import BcryptHasher
from infrastructure.idempotency import IdempotencyStore
from infrastructure.mail import FileMailer, SmtpMailer
from infrastructure.outbox_worker import OutboxWorker
from infrastructure.passwords import Argon2Passwords
from infrastructure.rate_batches import BatchedLimiter
from infrastructure.ratelimit import MemoryRateLimiter, RedisRateLimiter, SqlRateLimiter
from infrastructure.render_cache import RenderCache
from infrastructure.scheduler import RecurringRunner
from infrastructure.send_quota import SqlSendQuota
from infrastructure.sessions import KeyUsage, SessionStore
from infrastructure.settings import Settings
from infrastructure.signing import DigestSigner
from infrastructure.sql import PostgresDatabase, SQLiteDatabase, is_unavailable, open_database
from infrastructure.view_follower import ViewFollower, demand_channel
from infrastructure.webhooks import WebhookService, build_webhooks
from projections.audit_chain import AccountChainView
from projections.audit_view import AuditView
from projections.clients_view import ArchivedClientsView, ClientsView
from projections.counters_view import CountersView
from projections.directory_view import AccountsView, ApiKeysView
from projections.events_feed import EventsFeed
from projections.inline import InlineViews
from projections.invoices_view import InvoicesView
from projections.outbox_view import OutboxView
from projections.projector import Following, Nudge, Projector, View
from projections.queries import ReadModelQueries
from projections.recurring_view import RecurringView
from projections.state import StateCodec
from projections.webhook_rows import WebhookEndpointsView


@dataclass
class Services:
    settings: Settings
    app: Experi
    db: SQLiteDatabase | PostgresDatabase
    projector: Projector
    queries: ReadModelQueries
    auth: Authenticator
    limiter: RateLimiter
    shared_limiter: SqlRateLimiter  # in the database on both backends (portal log-in, sign-up)
    idempotency: IdempotencyStore
    outbox: OutboxWorker
    recurring: RecurringRunner
    sessions: SessionStore
    key_usage: KeyUsage
    signer: DigestSigner
    webhooks: WebhookService
    follower: ViewFollower

    def start_background_jobs(self) -> None:
        if self.settings.background_jobs:
            self.outbox.start()
            self.recurring.start()
            self.webhooks.start()
            # Audit reads wait for a worker of this process to catch the views that
            # follow the log up (woken at once) rather than catch them up themselves.
            self.follower.start()
            self.projector.following = Following(nudge=self.follower.passed)

    def commit_listener(self) -> CommitListener:
        """Hears every process's commits and wakes this process's workers (PostgreSQL)."""
        recorder = self.app.recorder
        if not isinstance(self.db, PostgresDatabase) or not isinstance(
            recorder, InlinePostgresRecorder
        ):
            raise TypeError("only PostgreSQL announces its commits")
        wakes = [Wake(self.webhooks.worker.heard, 0.02), Wake(self.outbox.wake, 0.2)]
        # Reads in the request workers ask for the views on a channel of their own.
        demands = {demand_channel(recorder.channel_name): self.follower.wake}
        return CommitListener(
            self.db.params.conninfo(), recorder.channel_name, wakes, demands=demands
        )

    def close(self) -> None:
        self.projector.following = None
        self.follower.stop()
        self.recurring.stop()
        self.outbox.stop()
        self.webhooks.stop()
        store = getattr(self.limiter, "store", None)
        if isinstance(store, RedisRateLimiter):
            store.close()
        self.db.close()
        self.app.close()


def asking(db: Any, recorder: Any) -> Nudge | None:
    """How a request worker asks the jobs process beside it to catch the views up (it
    does not wait: the read watches the views' positions)."""
    if not isinstance(db, PostgresDatabase) or not isinstance(recorder, InlinePostgresRecorder):
        return None
    channel = demand_channel(recorder.channel_name)

    def ask(_: float) -> bool:
        db.statement("SELECT pg_notify(?, '')", (channel,))
        return False

    return ask


def invoice_pdf() -> InvoiceDocument:
    from infrastructure.pdf import InvoicePdf  # imported at the first PDF (reportlab)

    return InvoicePdf()


def build_services(
    settings: Settings, clock: Clock | None = None, *, documents: Documents, settle: bool = True
) -> Services:
    """Everything, built once. `documents` shapes each resource's API JSON, which the
    read models store with its events (the API layer provides it). Without `settle`
    the views are not caught up as the process starts (a status that only looks)."""
    db = open_database(settings)
    with db.starting():  # processes starting at once set the store up one at a time
        return _build(settings, clock, documents, db, settle)


def _build(
    settings: Settings,
    clock: Clock | None,
    documents: Documents,
    db: SQLiteDatabase | PostgresDatabase,
    settle: bool,
) -> Services:
    app = Experi(
        event_store_env(settings),
        clock=clock,
        hasher=BcryptHasher(settings.bcrypt_rounds),
    )
    app.mailer = (
        SmtpMailer(settings.smtp_url)
        if settings.smtp_url
        else FileMailer(settings.data_dir / "outbox")
    )
    app.document = RenderCache(invoice_pdf)
    app.passwords = Argon2Passwords()
    app.email_from = settings.email_from
    app.delivery_policy = DeliveryPolicy(settings.email_max_attempts, settings.email_retry_seconds)
    app.send_quota = SqlSendQuota(
        db, settings.email_hourly_limit, settings.email_recipient_daily_limit
    )
    codec = StateCodec(app.mapper)
    clients = ClientsView(codec, documents.client)
    invoices = InvoicesView(codec, documents, db.dialect, app.repository.get)
    recurring = RecurringView(codec, documents.recurring)
    shapes: dict[type, Callable[[Any], bytes]] = {
        Client: documents.client,
        Invoice: documents.invoice,
        RecurringInvoice: documents.recurring,
    }
    feed = EventsFeed(
        shapes,
        lambda ident, version: app.repository.get(ident, version=version),
        documents.past_invoice,
    )
    accounts, keys = AccountsView(codec), ApiKeysView(codec)
    # Written with the events (inline); the others follow the event log.
    inline = [clients, invoices, recurring, accounts, keys]
    inline.append(endpoints := WebhookEndpointsView(codec))
    inline.append(CountersView(codec))
    views: list[View] = [AuditView(), OutboxView(), ArchivedClientsView()]
    views.append(AccountChainView())  # after AuditView, whose entity owners it reads
    views.append(feed)  # written inline; following the log fills rows older than the feed
    projector = Projector(db, app, views, inline, transient=is_unavailable)
    projector.setup(settle)
    rows = InlineViews(
        db, inline, app.recording, app.recorded_events, feed, stored=app.repository.get
    )
    recorder = app.recorder
    if not isinstance(recorder, InlinePostgresRecorder | InlineSQLiteRecorder):
        raise TypeError("the event store must write the inline views")
    recorder.inline = rows
    app.rows = rows
    app.on_saved(rows.saved)  # a kept state follows its aggregate's commits
    if isinstance(db, PostgresDatabase):
        app.shared_locks = db
        if isinstance(recorder, InlinePostgresRecorder):
            recorder.shared_locks = db
    key_usage = KeyUsage(db)
    queries = ReadModelQueries(db, projector, clients, invoices, recurring, accounts, keys, feed)
    outbox = OutboxWorker(db, app, projector, claim_seconds=settings.email_claim_seconds)
    if settings.jobs_elsewhere:
        # The jobs process beside this one catches the views up when a read asks, on a
        # channel its commit listener hears: audit reads wait for it. With no worker at
        # all (the tests drive the jobs, as do commands run once), reads catch the views
        # up themselves.
        projector.following = Following(nudge=asking(db, recorder))
    # Shared limits need a shared store; the embedded default limits API keys per process.
    # Redis, when given, holds API windows instead of the database. Either way a key far
    # below its allowance is counted in batches, not with a round trip per request.
    shared_limiter = SqlRateLimiter(db)
    limiter: RateLimiter
    if settings.redis_url:
        limiter = BatchedLimiter(RedisRateLimiter(settings.redis_url, settings.redis_prefix))
    elif db.dialect == "postgresql":
        limiter = BatchedLimiter(shared_limiter)
    else:
        limiter = MemoryRateLimiter()
    return Services(
        follower=ViewFollower(projector),
        settings=settings,
        app=app,
        db=db,
        projector=projector,
        queries=queries,
        auth=Authenticator(app, key_usage.record, settings.auth_failures_per_minute),
        limiter=limiter,
        shared_limiter=shared_limiter,
        idempotency=IdempotencyStore(db, settings.idempotency_stale_seconds),
        outbox=outbox,
        recurring=RecurringRunner(app, queries, settings.recurring_interval_seconds),
        sessions=SessionStore(db),
        key_usage=key_usage,
        signer=DigestSigner(db),
        webhooks=build_webhooks(settings.webhooks, app, db, endpoints, shared_limiter, feed),
    )
