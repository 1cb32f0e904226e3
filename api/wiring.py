"""Builds the application, its database and its projections from settings."""

from __future__ import annotations

from dataclasses import dataclass

from application.app import Experi
from application.authentication import Authenticator
from application.ports import Clock, RateLimiter
from application.sending import DeliveryPolicy
from infrastructure.eventstore import event_store_env
from infrastructure.hashing import BcryptHasher
from infrastructure.idempotency import IdempotencyStore
from infrastructure.mail import FileMailer, SmtpMailer
from infrastructure.outbox_worker import OutboxWorker
from infrastructure.passwords import Argon2Passwords
from infrastructure.pdf import InvoicePdf
from infrastructure.ratelimit import MemoryRateLimiter, SqlRateLimiter
from infrastructure.scheduler import RecurringRunner
from infrastructure.sessions import KeyUsage, SessionStore
from infrastructure.settings import Settings
from infrastructure.sql import PostgresDatabase, SQLiteDatabase, open_database
from projections.audit_view import AuditView
from projections.clients_view import ClientsView
from projections.directory_view import AccountsView, ApiKeysView
from projections.invoices_view import InvoicesView
from projections.outbox_view import OutboxView
from projections.projector import Projector, View
from projections.queries import ReadModelQueries
from projections.recurring_view import RecurringView
from projections.state import StateCodec


@dataclass
class Services:
    settings: Settings
    app: Experi
    db: SQLiteDatabase | PostgresDatabase
    projector: Projector
    queries: ReadModelQueries
    auth: Authenticator
    limiter: RateLimiter
    idempotency: IdempotencyStore
    outbox: OutboxWorker
    recurring: RecurringRunner
    sessions: SessionStore
    key_usage: KeyUsage

    def start_background_jobs(self) -> None:
        if self.settings.background_jobs:
            self.outbox.start()
            self.recurring.start()

    def close(self) -> None:
        self.recurring.stop()
        self.outbox.stop()
        self.db.close()
        self.app.close()


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
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
    app.document = InvoicePdf()
    app.passwords = Argon2Passwords()
    app.email_from = settings.email_from
    app.delivery_policy = DeliveryPolicy(settings.email_max_attempts, settings.email_retry_seconds)
    db = open_database(settings)
    codec = StateCodec(app.mapper)
    clients, invoices = ClientsView(codec), InvoicesView(codec)
    recurring = RecurringView(codec)
    accounts, keys = AccountsView(codec), ApiKeysView(codec)
    views: list[View] = [clients, invoices, recurring, accounts, keys, AuditView(), OutboxView()]
    projector = Projector(db, app, views)
    projector.setup()
    app.on_saved(projector.catch_up)
    key_usage = KeyUsage(db)
    queries = ReadModelQueries(db, projector, clients, invoices, recurring, accounts, keys)
    # Shared limits need a shared store; the embedded default limits per process.
    limiter: RateLimiter = SqlRateLimiter(db) if db.dialect == "postgresql" else MemoryRateLimiter()
    return Services(
        settings=settings,
        app=app,
        db=db,
        projector=projector,
        queries=queries,
        auth=Authenticator(app, on_use=key_usage.record),
        limiter=limiter,
        idempotency=IdempotencyStore(db),
        outbox=OutboxWorker(db, app, projector, claim_seconds=settings.email_claim_seconds),
        recurring=RecurringRunner(app, queries, settings.recurring_interval_seconds),
        sessions=SessionStore(db),
        key_usage=key_usage,
    )
