"""Builds the application, its database and its projections from settings."""

from __future__ import annotations

from dataclasses import dataclass

from application.app import Experi
from application.ports import Clock
from infrastructure.eventstore import event_store_env
from infrastructure.hashing import BcryptHasher
from infrastructure.settings import Settings
from infrastructure.sql import PostgresDatabase, SQLiteDatabase, open_database
from projections.clients_view import ClientsView
from projections.invoices_view import InvoicesView
from projections.projector import Projector
from projections.queries import ReadModelQueries
from projections.state import StateCodec


@dataclass
class Services:
    settings: Settings
    app: Experi
    db: SQLiteDatabase | PostgresDatabase
    projector: Projector
    queries: ReadModelQueries

    def close(self) -> None:
        self.db.close()
        self.app.close()


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    app = Experi(
        event_store_env(settings),
        clock=clock,
        hasher=BcryptHasher(settings.bcrypt_rounds),
    )
    db = open_database(settings)
    codec = StateCodec(app.mapper)
    clients, invoices = ClientsView(codec), InvoicesView(codec)
    projector = Projector(db, app, [clients, invoices])
    projector.setup()
    app.on_saved(projector.catch_up)
    return Services(
        settings, app, db, projector, ReadModelQueries(db, projector, clients, invoices)
    )
