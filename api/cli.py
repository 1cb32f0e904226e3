"""The `experi` command line: serve, accounts, keys and projections."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from api.documents import ApiDocuments
from api.services import build_services
from domain.account import PRO, PROFILE_FIELDS, Account
from domain.errors import DomainError
from domain.meta import system_meta
from infrastructure.bootstrap import Services
from infrastructure.rebuild_helpers import in_processes
from infrastructure.settings import Settings
from infrastructure.signing import Digest
from projections.audit_chain import account_ids
from projections.audit_log import verify_chain, verify_digest
from projections.events_feed import FeedFilter
from projections.progress import Progress
from projections.stored_time import timestamp as feed_timestamp

CLI_ACTOR = system_meta("experi-cli")
EXPORT_PAGE = 1_000
PROFILE_OPTIONS = [field.replace("_", "-") for field in PROFILE_FIELDS]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except StoreMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        for field, messages in error.details.items():
            print(f"  {field}: {'; '.join(messages)}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="experi", description="Experi invoicing backend")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(metavar="ACTION")
    create = accounts.add_parser("create", help="create an account")
    create.add_argument("--name", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--plan", choices=["pro", "free"], default="free")
    create.add_argument("--approve-api", action="store_true")
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=cmd_accounts_create)
    approve = accounts.add_parser("approve-api", help="approve an account's API access")
    approve.add_argument("account_id", type=UUID)
    approve.set_defaults(run=cmd_accounts_approve)
    set_plan = accounts.add_parser("set-plan", help="move an account to PRO or FREE")
    set_plan.add_argument("account_id", type=UUID)
    set_plan.add_argument("plan", choices=["pro", "free"])
    set_plan.set_defaults(run=cmd_accounts_set_plan)

    listing = accounts.add_parser("list", help="list accounts with plan and API access")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_accounts_list)

    update = accounts.add_parser("update", help="update an account's seller details")
    update.add_argument("account_id", type=UUID)
    update.add_argument("--name")
    for option in PROFILE_OPTIONS:
        update.add_argument(f"--{option}", help="an empty value clears it")
    update.add_argument("--json", action="store_true")
    update.set_defaults(run=cmd_accounts_update)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(metavar="ACTION")
    kcreate = keys.add_parser("create", help="create an API key (shown once)")
    kcreate.add_argument("--account", required=True, type=UUID)
    kcreate.add_argument("--name", required=True)
    kcreate.add_argument("--scopes", required=True, help="comma-separated; all, read")
    kcreate.add_argument("--json", action="store_true")
    kcreate.set_defaults(run=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke an API key")
    revoke.add_argument("key_id", type=UUID)
    revoke.set_defaults(run=cmd_keys_revoke)

    projections = sub.add_parser("projections", help="read models").add_subparsers(metavar="ACTION")
    rebuild = projections.add_parser("rebuild", help="rebuild every view from the events")
    rebuild.set_defaults(run=cmd_projections_rebuild)
    status = projections.add_parser(
        "status", help="how far the views follow the events, and any events set aside"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=cmd_projections_status)

    recurring = sub.add_parser("recurring", help="recurring invoices").add_subparsers(
        metavar="ACTION"
    )
    run_due = recurring.add_parser("run-due", help="generate every occurrence due by now")
    run_due.add_argument("--now", type=parse_now, help="RFC 3339 time to run as (default: now)")
    run_due.set_defaults(run=cmd_recurring_run_due)

    events = sub.add_parser("events", help="the events feed").add_subparsers(metavar="ACTION")
    export = events.add_parser(
        "export", help="write an account's events as JSON lines to stdout, oldest first"
    )
    export.add_argument("--account", type=UUID, required=True, help="the account's id")
    export.add_argument(
        "--since",
        type=parse_since,
        help="an RFC 3339 time (events at or after it) or an event id (events after it)",
    )
    export.set_defaults(run=cmd_events_export)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(metavar="ACTION")
    verify = audit.add_parser("verify", help="check the audit hash chain against the events")
    verify.add_argument("--digest", metavar="FILE", help="also hold the chain to a kept digest")
    verify.add_argument("--account", type=UUID, help="whose digest FILE is (found if omitted)")
    verify.set_defaults(run=cmd_audit_verify)
    return parser


class StoreMissing(Exception):
    """An operator command was pointed at a store that does not exist."""


def open_services(*, may_create: bool = False, settle: bool = True) -> Services:
    """The services on the configured store, named on stderr (stdout may be JSON). Only
    `accounts create` may start a new embedded store: any other command on a missing
    one is a mistake (another data directory, a typo), not a request for an empty one.
    Without `settle` the views are left where they are (see `build_services`)."""
    settings = Settings.from_env()
    where = settings.describe_store()
    if settings.dialect == "sqlite" and not settings.sqlite_path.exists():
        if not may_create:
            raise StoreMissing(
                f"no store at {settings.sqlite_path}: set EXPERI_DATA_DIR (or "
                "EXPERI_DATABASE_URL) to the server's, or create an account first"
            )
        print(f"experi: creating a new store: {where}", file=sys.stderr)
    else:
        print(f"experi: using {where}", file=sys.stderr)
    return build_services(settings, settle=settle)


def cmd_accounts_create(args: argparse.Namespace) -> int:
    s = open_services(may_create=True)
    try:
        account = s.app.create_account(
            args.name, args.email, args.plan.upper(), args.approve_api, CLI_ACTOR
        )
    finally:
        s.close()
    if args.json:
        print(
            json.dumps(
                {
                    "id": str(account.id),
                    "name": account.name,
                    "plan": account.plan,
                    "apiAccess": account.api_access,
                }
            )
        )
    else:
        print(f"Created account {account.id} ({account.plan}, API access {account.api_access})")
    return 0


def cmd_accounts_approve(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        account = s.app.approve_api(args.account_id, CLI_ACTOR)
    finally:
        s.close()
    print(f"API access approved for account {account.id}")
    return 0


def cmd_accounts_set_plan(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        account = s.app.set_plan(args.account_id, args.plan.upper(), CLI_ACTOR)
    finally:
        s.close()
    print(f"Account {account.id} is on {account.plan}")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        accounts = s.queries.list_accounts()
    finally:
        s.close()
    rows = [
        {"id": str(a.id), "name": a.name, "email": a.email, "plan": a.plan,
         "apiAccess": a.api_access}
        for a in accounts
    ]  # fmt: skip
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'ID':36}  {'PLAN':4}  {'API ACCESS':10}  NAME")
    for row in rows:
        print(f"{row['id']:36}  {row['plan']:4}  {row['apiAccess']:10}  {row['name']}")
    return 0


def cmd_accounts_update(args: argparse.Namespace) -> int:
    raw = {"name": args.name} | {
        field.replace("-", "_"): getattr(args, field.replace("-", "_")) for field in PROFILE_OPTIONS
    }
    # An empty value clears a field; the account's own rules check the rest.
    changes = {k: (v.strip() or None) for k, v in raw.items() if v is not None}
    s = open_services()
    try:
        account = s.app.update_profile(args.account_id, changes, CLI_ACTOR)
    finally:
        s.close()
    if args.json:
        print(json.dumps(account_json(account)))
    else:
        print(f"Updated account {account.id}")
    return 0


def account_json(account: Account) -> dict[str, object]:
    """The account as `GET /api/v1/account` shows it."""
    profile = {camel(f): account.profile.get(f) for f in PROFILE_FIELDS}
    profile["invoicePrefix"] = account.invoice_prefix
    return {
        "id": str(account.id),
        "name": account.name,
        "plan": account.plan,
        "apiAccess": account.api_access,
        **profile,
    }


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def cmd_keys_create(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        new = s.app.create_key(args.account, args.name, args.scopes.split(","), CLI_ACTOR)
    finally:
        s.close()
    if args.json:
        print(
            json.dumps(
                {
                    "id": str(new.key.id),
                    "key": new.token,
                    "name": new.key.name,
                    "scopes": list(new.key.scopes),
                }
            )
        )
    else:
        print(f"Created key {new.key.id} with scopes {', '.join(new.key.scopes)}")
        print(f"Key (shown once): {new.token}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        key = s.app.revoke_key(args.key_id, CLI_ACTOR)
    finally:
        s.close()
    print(f"Revoked key {key.id}")
    return 0


def cmd_projections_rebuild(_: argparse.Namespace) -> int:
    s = open_services()
    try:
        # On PostgreSQL the audit views are rebuilt in a second process, beside the rows.
        s.projector.rebuild(elsewhere=in_processes(s.settings, ApiDocuments))
        position = s.projector.position()
    finally:
        s.close()
    print(f"Projections rebuilt up to event {position}")
    return 0


def cmd_projections_status(args: argparse.Namespace) -> int:
    """For monitoring: exits 1 while any event is set aside (the audit log, the account
    chains and the outbox passed over it) until a rebuild applies it. It only looks: the
    views are not caught up first, so `behind` is how far they lag."""
    s = open_services(settle=False)
    try:
        position, lag = s.projector.position(), s.projector.lag()
        set_aside = s.projector.failures()
    finally:
        s.close()
    if args.json:
        failed = [
            {"event": f.seq, "views": list(f.views), "error": f.error, "failedAt": f.failed_at}
            for f in set_aside
        ]
        print(json.dumps({"position": position, "behind": lag, "setAside": failed}))
    else:
        print(f"The views that follow the events are at event {position}, {lag} behind")
        print(f"Events set aside: {len(set_aside)}")
        for f in set_aside:
            error = (f.error.splitlines() or [""])[0]
            print(f"  event {f.seq}  {f.failed_at}  {','.join(f.views)}  {error}")
        if set_aside:
            print("Fix the fault, deploy, then run `experi projections rebuild`.")
    return 1 if set_aside else 0


def parse_now(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {raw!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a timezone, such as 2026-03-01T09:00:00Z")
    return parsed.astimezone(UTC)


def parse_since(raw: str) -> datetime | UUID:
    try:
        return UUID(raw)
    except ValueError:
        return parse_now(raw)


def cmd_events_export(args: argparse.Namespace) -> int:
    """Stream the feed as JSON lines, with a progress bar on stderr."""
    s = open_services()
    try:
        where, cursor = FeedFilter(), None
        if isinstance(args.since, UUID):
            cursor = s.queries.events_cursor(args.account, str(args.since))
        elif args.since is not None:
            where = FeedFilter(created_from=feed_timestamp(args.since))
        bar = Progress()
        bar.start(0, s.queries.count_events(args.account, where, cursor))
        done = 0
        out = sys.stdout.buffer
        while True:
            page = s.queries.events(args.account, where, EXPORT_PAGE, cursor)
            for body in page.items:
                out.write(body + b"\n")
            done += len(page.items)
            bar.update(done)
            cursor = page.next_cursor
            if not page.has_more:
                break
        out.flush()
        bar.finish()
    finally:
        s.close()
    return 0


def cmd_recurring_run_due(args: argparse.Namespace) -> int:
    s = open_services()
    try:
        today = args.now.date() if args.now else None
        generated = s.recurring.run_once(today)
    finally:
        s.close()
    print(f"Generated {generated} recurring invoice(s)")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute the chains from the events; with --digest, hold them to a kept digest.

    Every finding, a store too damaged to read included, is a FAILED line and exit 1,
    never a traceback.
    """
    digest: Digest | None = None
    if args.digest:
        try:
            digest = Digest.from_json(json.loads(Path(args.digest).read_bytes()))
        except (OSError, ValueError, RecursionError) as error:
            print(f"error: cannot use {args.digest} as a digest: {error}", file=sys.stderr)
            return 1

    def findings(s: Services) -> tuple[int, list[str]]:
        found: list[str] = []
        try:
            s.projector.catch_up()
        except Exception as error:  # an event the views cannot read is itself a finding
            after = s.projector.position()
            found.append(f"FAILED: stored event #{after + 1} cannot be read ({error})")
        report = verify_chain(s.app.recorder, s.db)
        if not report.ok:
            bad = report.first_bad
            found.insert(
                0,
                f"FAILED at entry {bad} (stored event #{bad}): {report.reason}; "
                f"{report.checked} entries before it are intact",
            )
        if digest is None:
            return report.checked, found
        candidates = [str(args.account)] if args.account else account_ids(s.db)
        account = s.signer.signed_for(digest, candidates)
        if account is None:
            return report.checked, [*found, f"FAILED: {s.signer.refusal(digest, args.account)}"]
        decode = s.app.mapper.to_domain_event
        held = verify_digest(s.app.recorder, decode, s.db, account, digest.length, digest.head_hash)
        if not held.ok:
            stored = f" (stored event #{held.seq})" if held.seq else ""
            found.append(
                f"FAILED against the digest of account {account} (length {digest.length}): "
                f"entry {held.position}{stored}: {held.reason}"
            )
        return report.checked, found

    try:
        s = open_services()
        try:
            checked, failures = findings(s)
        finally:
            s.close()
    except Exception as error:  # a store too damaged to read is a finding, not a crash
        checked = 0
        failures = [f"FAILED: the audit log could not be checked: {type(error).__name__}: {error}"]
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        return 1
    kept = f"; the first {digest.length} entries match the digest" if digest else ""
    print(f"OK: the audit chain holds for all {checked} stored events{kept}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from api.jobs import WORKER_ENV, run_jobs, runs_apart
    from api.serving import serve

    settings = Settings.from_env()
    if settings.embedded:
        s = build_services(settings)
        try:
            greet_first_start(s, args.host, args.port)
        finally:
            s.close()
    print_addresses(args.host, args.port)
    print(f"  Store:          {settings.describe_store()}")
    sys.stdout.flush()
    options = {
        "app": "api.app:app_from_env",
        "factory": True,
        "host": args.host,
        "port": args.port,
        "log_level": "warning",
        # The app alone decides whom to believe about the client's address
        # (EXPERI_TRUSTED_PROXIES); uvicorn would otherwise trust 127.0.0.1's headers.
        "proxy_headers": False,
        "server_header": False,
        # Idle keep-alive connections close after 5 s; a body must arrive within 30 s
        # (api/http_edges.py). Header size and header timeouts belong to the reverse
        # proxy in front: the fast HTTP parser uvicorn picks enforces neither.
        "timeout_keep_alive": 5,
    }
    if runs_apart(settings, args.workers):
        return serve(options, args.workers, jobs=run_jobs, worker_env=WORKER_ENV)
    return serve(options, args.workers)


def print_addresses(host: str, port: int) -> None:
    """Where the server answers (no secrets)."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    print(f"Experi is serving on {base}")
    print(f"  API:            {base}/api/v1")
    print(f"  API reference:  {base}/docs")
    print(f"  Portal:         {base}/signup  (log in at {base}/login)")
    sys.stdout.flush()


def greet_first_start(s: Services, host: str, port: int) -> None:
    """On an empty embedded store: a demo PRO account and one full-access key, once.

    The key is written to a file only its owner can read, never to the terminal, where
    it would outlive the moment in scrollback, logs and screen shares.
    """
    import os

    if s.app.recorder.max_notification_id():
        return
    account = s.app.create_account("Demo Ltd", "demo@example.com", PRO, True, CLI_ACTOR)
    new = s.app.create_key(account.id, "demo", ["all"], CLI_ACTOR)
    path = (s.settings.data_dir / "demo-api-key").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as sink:
        os.fchmod(fd, 0o600)  # also when the file was already there
        sink.write(new.token + "\n")
    shown = f"[{host}]" if ":" in host else host
    print("Experi: created a demo PRO account with API access.")
    print(f"  account id: {account.id}")
    print(f"  API key id: {new.key.id}; the key is in {path} (readable by you only)")
    print("Try it:")
    url = f"http://{shown}:{port}/api/v1/clients"
    print(f'  curl -s -H "Authorization: Bearer $(cat {path})" {url}')
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
