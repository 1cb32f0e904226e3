"""Settings read from the environment (see the README's configuration table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import platformdirs

from infrastructure.webhook_settings import WebhookSettings


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    embedded: bool  # true when no EXPERI_DATABASE_URL was given
    smtp_url: str | None = None
    email_from: str = "invoices@localhost"
    read_rate_limit: int = 1000
    write_rate_limit: int = 300
    bcrypt_rounds: int = 12
    background_jobs: bool = True  # the outbox worker (and scheduler) inside the server
    # Another process runs them (the jobs process beside `experi serve`'s workers):
    # it follows the event log, so this one's reads wait for it instead of catching up.
    jobs_elsewhere: bool = False
    email_max_attempts: int = 8
    email_retry_seconds: float = 30.0
    email_claim_seconds: float = 120.0
    recurring_interval_seconds: float = 60.0
    email_hourly_limit: int = 200  # emails an account may send per hour
    email_recipient_daily_limit: int = 20  # emails an account may send one address per day
    trusted_proxies: tuple[str, ...] = ()  # peers whose X-Forwarded-For is believed
    hsts: bool = False  # send Strict-Transport-Security (the server is reached over HTTPS)
    # An Idempotency-Key request still marked in flight after this long died with its
    # process; a retry then runs it again and finds what the first run committed.
    idempotency_stale_seconds: float = 60.0
    auth_failures_per_minute: int = 30  # failed key checks allowed per client address
    # Whom portal users write to for a plan change: whoever runs this server.
    operator_contact: str = "the operator of this server"
    # API rate-limit windows live here when set (shared by all processes, no database
    # write per request); the key prefix lets several deployments share one Redis.
    redis_url: str | None = None
    redis_prefix: str = "experi:rate:"
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)  # EXPERI_WEBHOOK_*
    # Threads per server process that run commands (blocking event-store work). A few
    # more than the cores a process gets: every thread past that waits for the GIL.
    command_threads: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        # One place per user, whatever the working directory, so that `experi keys create`
        # run from elsewhere finds the same store as the server.
        data_dir = Path(env.get("EXPERI_DATA_DIR") or platformdirs.user_data_dir("experi"))
        url = env.get("EXPERI_DATABASE_URL") or ""
        jobs = _jobs(env)
        return cls(
            database_url=url or f"sqlite:///{data_dir / 'experi.sqlite3'}",
            data_dir=data_dir,
            embedded=not url,
            smtp_url=env.get("EXPERI_SMTP_URL") or None,
            email_from=env.get("EXPERI_EMAIL_FROM") or "invoices@localhost",
            read_rate_limit=int(env.get("EXPERI_READ_RATE_LIMIT") or 1000),
            write_rate_limit=int(env.get("EXPERI_WRITE_RATE_LIMIT") or 300),
            bcrypt_rounds=int(env.get("EXPERI_BCRYPT_ROUNDS") or 12),
            background_jobs=jobs == "1",
            jobs_elsewhere=jobs == "apart",
            email_max_attempts=int(env.get("EXPERI_EMAIL_MAX_ATTEMPTS") or 8),
            email_retry_seconds=float(env.get("EXPERI_EMAIL_RETRY_SECONDS") or 30),
            email_claim_seconds=float(env.get("EXPERI_EMAIL_CLAIM_SECONDS") or 120),
            recurring_interval_seconds=float(env.get("EXPERI_RECURRING_INTERVAL_SECONDS") or 60),
            email_hourly_limit=int(env.get("EXPERI_EMAIL_HOURLY_LIMIT") or 200),
            email_recipient_daily_limit=int(env.get("EXPERI_EMAIL_RECIPIENT_DAILY_LIMIT") or 20),
            trusted_proxies=tuple(
                p.strip() for p in (env.get("EXPERI_TRUSTED_PROXIES") or "").split(",") if p.strip()
            ),
            operator_contact=(env.get("EXPERI_OPERATOR_CONTACT") or "").strip()
            or "the operator of this server",
            idempotency_stale_seconds=float(env.get("EXPERI_IDEMPOTENCY_STALE_SECONDS") or 60),
            auth_failures_per_minute=int(env.get("EXPERI_AUTH_FAILURES_PER_MINUTE") or 30),
            redis_url=env.get("EXPERI_REDIS_URL") or None,
            redis_prefix=env.get("EXPERI_REDIS_PREFIX") or "experi:rate:",
            hsts=(env.get("EXPERI_HSTS") or "0").strip().lower() not in ("0", "false", "no", ""),
            webhooks=WebhookSettings.from_env(env),
            command_threads=_at_least_one(env, "EXPERI_COMMAND_THREADS", cls.command_threads),
        )

    @property
    def dialect(self) -> str:
        scheme = urlsplit(self.database_url).scheme
        if scheme == "sqlite":
            return "sqlite"
        if scheme in ("postgresql", "postgres"):
            return "postgresql"
        raise ValueError(f"unsupported EXPERI_DATABASE_URL scheme: {scheme!r}")

    @property
    def sqlite_path(self) -> Path:
        return Path(unquote(urlsplit(self.database_url).path[1:] or "experi.sqlite3"))

    def describe_store(self) -> str:
        """Where the data lives, for people (a PostgreSQL password is left out)."""
        if self.dialect == "sqlite":
            return f"SQLite file {self.sqlite_path}"
        pg = self.postgres
        return f"PostgreSQL database {pg.dbname} on {pg.host}:{pg.port} (schema {pg.schema})"

    @property
    def postgres(self) -> PostgresParams:
        parts = urlsplit(self.database_url)
        query = parse_qs(parts.query)
        return PostgresParams(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(parts.path.lstrip("/") or "postgres"),
            schema=query.get("schema", ["public"])[0],
        )


# A session cut silently on the way (a partition, a NAT or a proxy dropping its state)
# is found within about a minute at both ends. Here: keepalives, and a limit on how long
# sent data may go unacknowledged, so that a request on such a session fails instead of
# waiting for the kernel's retransmissions (about 15 minutes). On the server: its own
# keepalives and limit, which end the session and free the locks it held (an account's
# numbering lock) instead of keeping them for the default two hours.
LIVENESS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,  # milliseconds
}
# The same, as the server's settings (tcp_keepalives_idle, ..., tcp_user_timeout).
SERVER_LIVENESS = " ".join(
    f"-c {name if name.startswith('tcp_') else 'tcp_' + name}={value}"
    for name, value in LIVENESS.items()
    if name != "keepalives"
)


@dataclass(frozen=True)
class PostgresParams:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str

    def conninfo(self, extra_options: str = "") -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            "",
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=self.dbname,
            options=f"-c search_path={self.schema} {SERVER_LIVENESS} {extra_options}".strip(),
            **LIVENESS,
        )


def _jobs(env: Mapping[str, str]) -> str:
    """EXPERI_BACKGROUND_JOBS: 1 (in this process), 0 (none), apart (in another)."""
    raw = (env.get("EXPERI_BACKGROUND_JOBS") or "1").strip()
    if raw not in ("0", "1", "apart"):
        raise ValueError(f"EXPERI_BACKGROUND_JOBS must be 1, 0 or apart, not {raw!r}")
    return raw


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)
