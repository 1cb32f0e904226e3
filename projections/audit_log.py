"""Reading the audit log (filters, oldest first) and verifying its hash chains."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from application.ports import Page, SqlDatabase
from projections import cursors
from projections.audit_chain import (
    GENESIS,
    Unreadable,
    account_hash,
    chain_hash,
    is_audited,
    named_account,
    read_notifications,
    recorded_chain,
    recorded_owner,
    state_note,
)
from projections.audit_view import redact
from projections.plans import run_plan


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor_id: str | None = None
    occurred_from: str | None = None  # ISO timestamps, compared as text
    occurred_to: str | None = None


COLUMNS = (
    "seq, id, occurred_at, action, entity_type, entity_id, actor_type, actor_id, actor_name, "
    "request_id, ip, user_agent, data"
)


def entry(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[1],
        "occurredAt": row[2],
        "action": row[3],
        "entityType": row[4],
        "entityId": row[5],
        "actor": {"type": row[6], "id": row[7], "name": row[8]},
        "requestId": row[9],
        "ip": row[10],
        "userAgent": row[11],
        # Redacted again on the way out: entries written before a rule existed hold secrets.
        "data": redact(json.loads(row[12])),
    }


def page(
    db: SqlDatabase, account_id: UUID, where: AuditFilter, limit: int, cursor: str | None
) -> Page:
    sql = f"SELECT {COLUMNS} FROM view_audit WHERE account_id = ?"
    params: list[Any] = [str(account_id)]
    more, values = cursors.conditions(
        ("entity_type", "=", where.entity_type),
        ("entity_id", "=", where.entity_id),
        ("action", "=", where.action),
        ("actor_id", "=", where.actor_id),
        ("occurred_at", ">=", where.occurred_from),
        ("occurred_at", "<=", where.occurred_to),
    )
    sql += more
    params += values
    rows, next_cursor = run_plan(
        db, cursors.seq_rows(sql, params, limit, cursor, "audit", seq_column=0, newest_first=False)
    )
    return Page([entry(r) for r in rows], next_cursor)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad: int | None = None  # the notification id of the first entry that fails
    reason: str = ""


def _chained_position(cur: Any) -> int:
    """How far the audit view (which writes the chain) says it has got; 0 if unknown."""
    try:
        cur.execute("SELECT position FROM projection_tracking WHERE name = 'AuditView'")
        row = cur.fetchone()
    except Exception:  # an older store without per-view tracking
        return 0
    return int(row[0]) if row else 0


def verify_chain(recorder: Any, db: SqlDatabase, batch: int = 1000) -> ChainReport:
    """Recompute the chain from the stored events and compare it with the recorded one."""
    with db.transaction() as cur:
        cur.execute("SELECT seq, hash FROM audit_chain ORDER BY seq")
        recorded = cur.fetchall()
        chained_to = _chained_position(cur)
    previous = GENESIS
    checked = 0
    expected = iter(recorded)
    for n in read_notifications(recorder, batch):
        item = next(expected, None)
        if isinstance(n, Unreadable):
            bad = int(item[0]) if item is not None else n.after + 1
            return ChainReport(
                False, checked, bad, f"the stored event after #{n.after} cannot be read: {n.error}"
            )
        if item is None:
            if n.id <= chained_to:  # the chain passed it, yet its entry is gone
                return ChainReport(
                    False, checked, n.id, "the event is stored but its chain entry is missing"
                )
            return ChainReport(True, checked)  # not yet chained (the projector is behind)
        seq, stored = int(item[0]), str(item[1])
        if seq != n.id:
            bad = min(seq, n.id)
            return ChainReport(False, checked, bad, "an event is missing or was inserted")
        previous = chain_hash(previous, n)
        if previous != stored:
            return ChainReport(
                False,
                checked,
                n.id,
                f"event {n.originator_id} version {n.originator_version} "
                f"does not match its recorded hash{state_note(n.state)}",
            )
        checked += 1
    leftover = next(expected, None)
    if leftover is not None:
        return ChainReport(False, checked, int(leftover[0]), "a chained event is missing")
    return ChainReport(True, checked)


@dataclass(frozen=True)
class DigestReport:
    ok: bool
    found: int  # the account's entries recomputed from the events (up to the digest's length)
    position: int | None = None  # the first entry of the account that differs
    seq: int | None = None  # its stored event, when there is one
    reason: str = ""


def verify_digest(
    recorder: Any,
    decode: Callable[[Notification], Any],
    db: SqlDatabase,
    account_id: str,
    length: int,
    head_hash: str,
) -> DigestReport:
    """Recompute the account's chain from the events and hold it to a kept digest.

    The entry at `length` must hash to `head_hash`. When it does not, the recorded
    chain names the first entry that differs; when that was rewritten to match, the
    digest can only say that some entry up to `length` changed.
    """
    recorded = recorded_chain(db, account_id, length + 1)
    learnt: dict[str, str] = {}
    position, previous = 0, GENESIS
    first: DigestReport | None = None
    if length == 0:
        intact = head_hash == GENESIS
        return DigestReport(
            intact, 0, reason="" if intact else "an empty chain's head is all zeros"
        )
    for n in read_notifications(recorder):
        if isinstance(n, Unreadable):
            kept = recorded.get(position + 1)
            reason = f"the stored event after #{n.after} cannot be read: {n.error}"
            return first or DigestReport(
                False, position, position + 1, kept[0] if kept else None, reason
            )
        if _owner(n, decode, learnt, db) != account_id:
            continue
        position += 1
        previous = account_hash(previous, account_id, position, n)
        kept = recorded.get(position)
        if first is None and (kept is None or kept[0] != n.id):
            was = f"stored event #{kept[0]}" if kept else "no entry"
            reason = f"the chain recorded {was} here: an entry was removed, inserted or reordered"
            first = DigestReport(False, position, position, n.id, reason)
        elif first is None and kept is not None and kept[1] != previous:
            reason = (
                f"event {n.originator_id} version {n.originator_version} "
                f"does not match its recorded hash{state_note(n.state)}"
            )
            first = DigestReport(False, position, position, n.id, reason)
        if position == length:
            if previous == head_hash:
                return DigestReport(True, position)
            reason = (
                f"the chain's hash here is {previous[:16]}..., the digest's headHash is "
                f"{head_hash[:16]}...: an entry up to here was altered, removed or reordered, "
                "and the recorded chain was rewritten to match"
            )
            return first or DigestReport(False, position, position, n.id, reason)
    kept = recorded.get(position + 1)
    gone = (
        f"entry {length} is" if position + 1 == length else f"entries {position + 1}-{length} are"
    )
    reason = (
        f"the digest covers {length} entries but the store holds {position}: "
        f"{gone} missing (truncated or rolled back)"
    )
    return first or DigestReport(False, position, position + 1, kept[0] if kept else None, reason)


def _owner(
    n: Notification, decode: Callable[[Notification], Any], learnt: dict[str, str], db: SqlDatabase
) -> str | None:
    """The account a stored event belongs to, by the audit projection's rule, read from the
    event itself: what the projection recorded is only asked when the event says nothing."""
    entity = str(n.originator_id)
    try:
        event = decode(n)
    except Exception:
        # Content that no longer decodes: whose it was, as far as anything recorded says.
        return learnt.get(entity) or recorded_owner(db, n.id, entity) or entity
    if not is_audited(event):
        return None
    named = named_account(event)
    if named is None:
        return learnt.get(entity) or recorded_owner(db, None, entity)
    if named != entity:
        learnt.setdefault(entity, named)
    return named
