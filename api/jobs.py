"""The background jobs in a process of their own, beside the request workers.

With several workers on PostgreSQL, `experi serve` runs the outbox, webhook and
recurring workers here rather than inside each request worker. Their passes (the audit
views' catch-up among them) then take no turns on a request worker's interpreter lock:
under load they had added 20-30 ms to the slowest writes. A commit in any process wakes
them through PostgreSQL's `LISTEN` (infrastructure/commit_listener.py), so an email sent
through any worker still goes out at once.
"""

from __future__ import annotations

import logging
import signal
import threading

from api.services import build_services
from infrastructure.settings import Settings

log = logging.getLogger("experi.jobs")
RETRY = 5.0  # seconds between attempts to start
# The environment of request workers whose background jobs run here instead.
WORKER_ENV = {"EXPERI_BACKGROUND_JOBS": "apart"}


def runs_apart(settings: Settings, workers: int) -> bool:
    """Whether `experi serve --workers N` runs the background jobs in a process of their
    own: with several workers on PostgreSQL (the embedded SQLite store announces no
    commits, and one worker has no other worker to spare)."""
    return settings.background_jobs and settings.dialect == "postgresql" and workers > 1


def run_jobs() -> None:
    """The jobs process: the workers and the commit listener until SIGTERM or SIGINT.

    One that cannot start tries again every `RETRY` seconds rather than exit: the
    supervisor stops every worker when a process fails its start-up, which is right for
    a first start (the workers fail alike) but not for a jobs process replaced during a
    database outage while the workers serve what they can."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    while not stopping.is_set():
        try:
            services = build_services(Settings.from_env())
        except Exception as error:
            log.warning("the background jobs could not start (%s); again in %g s", error, RETRY)
            stopping.wait(RETRY)
            continue
        listener = services.commit_listener()
        try:
            services.start_background_jobs()
            listener.start()
            stopping.wait()
        finally:
            listener.stop()
            services.close()
