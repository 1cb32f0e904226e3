"""Hash chains over the stored events: one over every event, and one per account.

The global chain (`audit_chain`) commits each stored event to all the events before
it. The account chain (`audit_account_chain`) commits each audited event of one
account to that account's earlier ones; its head is what a signed digest vouches
for, so a digest says nothing about (and reveals nothing of) other accounts. Neither
chain is ever rewritten by a rebuild; `experi audit verify` recomputes both from the
events and names the first entry that differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from application.ports import SqlCursor, SqlDatabase
from domain.account import Account
from domain.numbering import InvoiceCounter

GENESIS = "0" * 64


def state_bytes(state: Any) -> bytes:
    """The bytes a stored state is hashed as, whatever the column was rewritten to hold.

    A value that is not bytes (text or a number put there by hand) is hashed with its
    type, so it can never match what the event store wrote, and never crashes a check.
    """
    if isinstance(state, (bytes, bytearray, memoryview)):
        return bytes(state)
    return f"{type(state).__name__}:{state!r}".encode()


def state_note(state: Any) -> str:
    """Why a state cannot be what the event store wrote, if its type already says so."""
    if isinstance(state, (bytes, bytearray, memoryview)):
        return ""
    return f" (its state is stored as {type(state).__name__}, not bytes)"


def _digest(parts: Sequence[object], state: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode())
        digest.update(b"|")
    digest.update(hashlib.sha256(state_bytes(state)).digest())
    return digest.hexdigest()


def chain_hash(previous: str, n: Notification) -> str:
    """The global chain's link for one stored event."""
    return link(previous, n.id, link_parts(n))


def link_parts(event: Any) -> tuple[str, bytes]:
    """What an event's link hashes after the link before it and its notification id
    (known only once it is inserted): its text, and its state's digest."""
    tail = f"{event.originator_id}|{event.originator_version}|{event.topic}|"
    return tail, hashlib.sha256(state_bytes(event.state)).digest()


def link(previous: str, seq: int, parts: tuple[str, bytes]) -> str:
    """The same bytes as `_digest` over (previous, seq, id, version, topic) and state."""
    tail, digest = parts
    return hashlib.sha256(f"{previous}|{seq}|{tail}".encode() + digest).hexdigest()


def account_hash(previous: str, account_id: str, position: int, n: Notification) -> str:
    """The account chain's link for the account's `position`-th audited event."""
    parts = ("acct", previous, account_id, position, n.id, n.originator_id)
    return _digest((*parts, n.originator_version, n.topic), n.state)


def aggregate_name(event: Any) -> str:
    return _aggregate_name(type(event))


_NAMES: dict[Any, str] = {}  # event class -> aggregate name (a handful of classes)


def _aggregate_name(kind: Any) -> str:
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = kind.__qualname__.split(".")[0]
    return name


def is_audited(event: Any) -> bool:
    """Invoice numbering is internal bookkeeping, not a change a user made."""
    return _aggregate_name(type(event)) != InvoiceCounter.__name__


def named_account(event: Any) -> str | None:
    """The account an event names itself: an account's own id, or its `account_id`."""
    if _aggregate_name(type(event)) == Account.__name__:
        return str(event.originator_id)
    account_id = getattr(event, "account_id", None)
    return None if account_id is None else str(account_id)


@dataclass(frozen=True)
class Unreadable:
    """A stored event the event store cannot hand back (a column was rewritten)."""

    after: int  # the last notification id read before it
    error: str


def read_notifications(recorder: Any, batch: int = 1000) -> Iterator[Notification | Unreadable]:
    """Every stored event in order; an unreadable one ends the stream, named, not raised."""
    start, size = 0, batch
    while True:
        try:
            notifications = recorder.select_notifications(
                start=start, limit=size, inclusive_of_start=False
            )
        except Exception as error:  # a tampered row must be reported, not crash the check
            if size > 1:
                size //= 2  # narrow down to the row that cannot be read
                continue
            yield Unreadable(start, f"{type(error).__name__}: {error}")
            return
        yield from notifications
        if len(notifications) < size:
            return
        start = notifications[-1].id


class AccountChainView:
    """Appends each audited event to its account's chain (a projection with its own
    tracking, so a store that predates it is chained from its first event)."""

    tables: Sequence[str] = ()  # a rebuild never rewrites the chain
    group = "audit"  # with AuditView, whose entity owners it reads
    dialect = "sqlite"  # set by create_statements: batched inserts differ by database

    def __init__(self) -> None:
        from projections.audit_batch import KnownOwners

        self.known = KnownOwners()

    def create_statements(self, dialect: str) -> list[str]:
        self.dialect = dialect
        return [
            "CREATE TABLE IF NOT EXISTS audit_account_chain (seq BIGINT PRIMARY KEY, "
            "account_id TEXT NOT NULL, position BIGINT NOT NULL, hash TEXT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS audit_account_chain_position "
            "ON audit_account_chain (account_id, position)",
        ]

    def apply(self, cur: SqlCursor, event: Any, notification: Notification) -> None:
        batch = [(notification, event)]
        self.apply_batch(cur, batch, notification.id - 1, self.prepare(cur, batch))

    def prepare(self, cur: SqlCursor, batch: Any) -> Any:
        """What the batch reads, before any view writes: chained events and owners."""
        from projections.audit_batch import resolve_owners, seq_range

        audited = [n.id for n, e in batch if is_audited(e)]
        chained = seq_range(cur, "audit_account_chain", batch, expected=len(audited))
        if chained is None:  # counted: every audited event is chained
            chained = dict.fromkeys(audited)
        if all(seq in chained for seq in audited):
            # Nothing to chain (a rebuild passing chained events): owners go unused.
            return chained, [(None, None)] * len(batch)
        return chained, resolve_owners(cur, batch, self.known)

    def apply_batch(self, cur: SqlCursor, batch: Any, after: int, prepared: Any) -> None:
        """Chain the audited events after `after` that are not chained yet, in order."""
        from projections.audit_batch import account_heads, insert_rows, record_owners

        chained, owners = prepared
        todo = [
            (notification, event, account_id, naming)
            for (notification, event), (account_id, naming) in zip(batch, owners, strict=True)
            if notification.id > after and is_audited(event) and notification.id not in chained
        ]
        record_owners(
            cur,
            self.dialect,
            [(str(e.originator_id), naming) for _, e, _, naming in todo if naming],
        )
        heads = account_heads(cur, list({a for _, _, a, _ in todo if a is not None}))
        rows = []
        for notification, _, account_id, _ in todo:
            if account_id is None:
                continue  # not an account's event: it has no audit entry either
            position, previous = heads.get(account_id, (0, GENESIS))
            link = account_hash(previous, account_id, position + 1, notification)
            heads[account_id] = (position + 1, link)
            rows.append((notification.id, account_id, position + 1, link))
        insert_rows(
            cur,
            self.dialect,
            "audit_account_chain",
            ("seq", "account_id", "position", "hash"),
            rows,
        )


def _head(cur: SqlCursor, account_id: str) -> tuple[int, str]:
    cur.execute(
        "SELECT position, hash FROM audit_account_chain WHERE account_id = ? "
        "ORDER BY position DESC LIMIT 1",
        (account_id,),
    )
    row = cur.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def head(db: SqlDatabase, account_id: str) -> tuple[int, str]:
    """The account chain's length and last hash (GENESIS when it is empty)."""
    with db.transaction() as cur:
        return _head(cur, account_id)


def recorded_chain(db: SqlDatabase, account_id: str, upto: int) -> dict[int, tuple[int, str]]:
    """The account chain as recorded, up to `upto`: position -> (stored event id, hash)."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT position, seq, hash FROM audit_account_chain "
            "WHERE account_id = ? AND position <= ?",
            (account_id, upto),
        )
        return {int(r[0]): (int(r[1]), str(r[2])) for r in cur.fetchall()}


def recorded_owner(db: SqlDatabase, seq: int | None, entity_id: str) -> str | None:
    """Whose the projection said a stored event (or else its entity) was."""
    row = None
    if seq is not None:
        row = db.statement("SELECT account_id FROM audit_account_chain WHERE seq = ?", (seq,))
    if row is None:
        row = db.statement(
            "SELECT account_id FROM audit_entities WHERE entity_id = ?", (entity_id,)
        )
    return None if row is None else str(row[0])


def account_ids(db: SqlDatabase) -> list[str]:
    """Every account the audit tables know of (to find whose digest a file holds)."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT account_id FROM audit_account_chain UNION SELECT account_id "
            "FROM audit_entities UNION SELECT id FROM view_accounts"
        )
        return sorted(str(r[0]) for r in cur.fetchall())
