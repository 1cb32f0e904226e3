"""Reading the audit log (filters, oldest first) and verifying its hash chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.ports import Page, SqlDatabase
from projections import cursors
from projections.audit_view import GENESIS, chain_hash


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
        "data": json.loads(row[12]),
    }


def page(
    db: SqlDatabase, account_id: UUID, where: AuditFilter, limit: int, cursor: str | None
) -> Page:
    sql = f"SELECT {COLUMNS} FROM view_audit WHERE account_id = ?"
    params: list[Any] = [str(account_id)]
    for column, op, value in (
        ("entity_type", "=", where.entity_type),
        ("entity_id", "=", where.entity_id),
        ("action", "=", where.action),
        ("actor_id", "=", where.actor_id),
        ("occurred_at", ">=", where.occurred_from),
        ("occurred_at", "<=", where.occurred_to),
    ):
        if value is not None:
            sql += f" AND {column} {op} ?"
            params.append(value)
    rows, next_cursor = cursors.seq_page(
        db, sql, params, limit, cursor, "audit", seq_column=0, newest_first=False
    )
    return Page([entry(r) for r in rows], next_cursor)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad: int | None = None  # the notification id of the first entry that fails
    reason: str = ""


def verify_chain(recorder: Any, db: SqlDatabase, batch: int = 1000) -> ChainReport:
    """Recompute the chain from the stored events and compare it with the recorded one."""
    with db.transaction() as cur:
        cur.execute("SELECT seq, hash FROM audit_chain ORDER BY seq")
        recorded = cur.fetchall()
    previous = GENESIS
    checked = 0
    start = 0
    expected = iter(recorded)
    while True:
        notifications = recorder.select_notifications(
            start=start, limit=batch, inclusive_of_start=False
        )
        for n in notifications:
            item = next(expected, None)
            if item is None:
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
                    "does not match its recorded hash",
                )
            checked += 1
            start = n.id
        if len(notifications) < batch:
            break
    leftover = next(expected, None)
    if leftover is not None:
        return ChainReport(False, checked, int(leftover[0]), "a chained event is missing")
    return ChainReport(True, checked)
