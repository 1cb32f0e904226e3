"""The eventsourcing library's environment for the configured database."""

from __future__ import annotations

from infrastructure.settings import Settings


def event_store_env(settings: Settings) -> dict[str, str]:
    if settings.dialect == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    pg = settings.postgres
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        "POSTGRES_SCHEMA": pg.schema,
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
        # Never the database functions: they skip the table lock, which lets readers
        # miss events under concurrent writes.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
    }
