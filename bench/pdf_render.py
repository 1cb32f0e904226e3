"""What a PDF download of a 500-line invoice costs: rendered cold, then from the cache.

Cold is the first download of each new version of the invoice (it is edited before
each); cached is a download of the last version, already rendered. Medians.
Usage: python -m bench.pdf_render [--lines 500] [--cold 3] [--cached 20]
       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal

from api.services import build_services
from application.invoices import NewInvoice
from domain.meta import system_meta
from domain.values import LineItem
from infrastructure.settings import Settings

META = system_meta("bench")


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--cached", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    env = {
        "EXPERI_DATA_DIR": tempfile.mkdtemp(prefix="experi-bench-"),
        "EXPERI_BCRYPT_ROUNDS": "4",
        "EXPERI_BACKGROUND_JOBS": "0",
    }
    if args.database_url:
        env["EXPERI_DATABASE_URL"] = args.database_url
    s = build_services(Settings.from_env(env))
    try:
        account = s.app.create_account("Bench Ltd", "b@example.com", "PRO", True, META)
        client = s.app.create_client(account.id, {"name": "Client", "city": "London"}, META)
        lines = tuple(
            LineItem(f"Consulting, item {n}: analysis and report", Decimal(2), Decimal("75.50"))
            for n in range(args.lines)
        )
        new = NewInvoice(client_id=client.id, line_items=lines, tax_rate=Decimal(20))
        invoice = s.app.create_invoice(account.id, new, META)

        def download() -> None:
            s.app.render_pdf(account.id, invoice.id)

        cold = []
        for n in range(args.cold):
            s.app.update_invoice(account.id, invoice.id, {"notes": f"Revision {n}"}, META)
            cold.append(timed(download))
        cached = [timed(download) for _ in range(args.cached)]
        size = len(s.app.render_pdf(account.id, invoice.id)[1])
    finally:
        s.close()
    backend = "postgresql" if args.database_url else "sqlite (embedded)"
    print(f"backend: {backend}; invoice of {args.lines} lines, PDF of {size / 1024:.0f} KiB")
    print(f"{'':>8} {'wall ms':>9} {'cpu ms':>9}   (medians of render_pdf, as GET /pdf runs it)")
    for label, runs in (("cold", cold), ("cached", cached)):
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{label:>8} {wall:>9.1f} {cpu:>9.1f}   n={len(runs)}")


if __name__ == "__main__":
    main()
